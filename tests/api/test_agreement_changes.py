"""Amending and rescinding an agreement are decisions of its forum: each names the decision rule
in force it was made under, checked as an adoption's is, and refusals write nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_decision_rule, seed_world
from tests.decisions import RULED
from tracker.domain import Agreement, Attendance, Forum, Meeting
from tracker.eventstore import NewEvent, StreamAppend
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
# Each change on an adopted agreement, with a valid body apart from its decision.
CHANGES = {
    "amendments": {"text": "Papers ten days ahead", "reason": "More time"},
    "rescission": {"reason": "No longer needed"},
}


@pytest.fixture
async def world(client: Client, repository: Repository) -> World:
    """Amina convenes (and stewards) the forum; Ben and Chloe are members; no rule yet."""
    return await seed_world(repository)


def forum_of(world: World) -> Forum:
    assert world.forum is not None
    return world.forum


async def events(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def as_amina(issue: Tokens, world: World) -> dict[str, str]:
    return await issue.headers("leader", world.id("amina"))


async def adopted(world: World, kind: str = "expectation", title: str = "Papers") -> Agreement:
    """An adopted agreement of the forum (the domain takes the seeder's word for the rule)."""
    a = Agreement.propose(
        uuid.uuid4(), "forum", forum_of(world).id, kind, title, "Papers a week ahead",
        world.id("ben"),
    )  # fmt: skip
    a.adopt(RULED)
    await world.repository.save(a, context=SEEDER)
    return a


async def view(client: Client, issue: Tokens, agreement_id: uuid.UUID) -> Any:
    r = await client.get(f"/agreements/{agreement_id}", headers=await issue.headers("auditor"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_an_amendment_at_a_meeting_names_the_rule_and_who_was_present(
    client: Client, issue: Tokens, world: World
) -> None:
    rule = await seed_decision_rule(world)
    target = await adopted(world)
    meeting = Meeting.schedule(uuid.uuid4(), forum_of(world).id, "November", STARTS_AT)
    meeting.open()
    amina, ben, chloe = world.id("amina"), world.id("ben"), world.id("chloe")
    meeting.record_attendance(
        [Attendance(amina, "attended"), Attendance(ben, "apologies"), Attendance(chloe, "attended")]
    )
    await world.repository.save(meeting, context=SEEDER)
    body = CHANGES["amendments"] | {"decision_rule_id": str(rule.id), "meeting_id": str(meeting.id)}

    r = await client.post(
        f"/agreements/{target.id}/amendments", json=body, headers=await as_amina(issue, world)
    )

    assert r.status_code == 200, r.text
    got = await view(client, issue, target.id)
    assert (got["text"], got["amendments"], got["rescission"]) == (body["text"], 1, None)
    assert got["last_amendment"] == {
        "reason": "More time",
        "meeting_id": str(meeting.id),
        "decision": {
            "rule": "Consent of members present",
            "rule_id": str(rule.id),
            "rule_version": 2,
            "present": [str(amina), str(chloe)],
            "consented_by": [],
        },
    }


async def test_a_rescission_names_the_rule_it_was_decided_under(
    client: Client, issue: Tokens, world: World
) -> None:
    rule = await seed_decision_rule(world)
    target = await adopted(world)
    body = CHANGES["rescission"] | {"decision_rule_id": str(rule.id)}

    r = await client.post(
        f"/agreements/{target.id}/rescission", json=body, headers=await as_amina(issue, world)
    )

    assert r.status_code == 200, r.text
    got = await view(client, issue, target.id)
    assert got["status"] == "rescinded"
    assert got["rescission"]["reason"] == "No longer needed"
    assert got["rescission"]["meeting_id"] is None
    assert (got["rescission"]["decision"]["rule_id"], got["last_amendment"]) == (str(rule.id), None)


@pytest.mark.parametrize("step", list(CHANGES))
async def test_a_forum_with_a_rule_in_force_must_name_it(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool, step: str
) -> None:
    await seed_decision_rule(world)
    target = await adopted(world)
    before = await events(pool)

    r = await client.post(
        f"/agreements/{target.id}/{step}", json=CHANGES[step], headers=await as_amina(issue, world)
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "decision_rule_id", "message": "must name the forum's decision rule in force"}
    ]
    assert await events(pool) == before


@pytest.mark.parametrize("step", list(CHANGES))
@pytest.mark.parametrize("named", ["unknown", "another forum's", "rescinded", "proposed"])
async def test_a_rule_unknown_elsewhere_or_out_of_force_is_refused(
    client: Client,
    issue: Tokens,
    world: World,
    repository: Repository,
    pool: asyncpg.Pool,
    step: str,
    named: str,
) -> None:
    await seed_decision_rule(world)
    target = await adopted(world)
    other = await adopted(world, kind="decision_rule", title="Majority")
    if named == "rescinded":
        other.rescind("Replaced by consent")
        await repository.save(other, context=SEEDER)
    rule_id = {
        "unknown": uuid.uuid4(),
        "another forum's": (await seed_decision_rule(await seed_world(repository, ("dev",)))).id,
        "rescinded": other.id,
        "proposed": (await proposed_rule(world)).id,
    }[named]
    message = {
        "unknown": f"no such decision rule: {rule_id}",
        "another forum's": f"no such decision rule: {rule_id}",
        "rescinded": "the decision rule is rescinded, not in force",
        "proposed": "the decision rule is not adopted yet",
    }[named]
    before = await events(pool)

    r = await client.post(
        f"/agreements/{target.id}/{step}",
        json=CHANGES[step] | {"decision_rule_id": str(rule_id)},
        headers=await as_amina(issue, world),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "decision_rule_id", "message": message}]
    assert await events(pool) == before


async def proposed_rule(world: World) -> Agreement:
    a = Agreement.propose(
        uuid.uuid4(), "forum", forum_of(world).id, "decision_rule", "Vote", "Most hands",
        world.id("ben"),
    )  # fmt: skip
    await world.repository.save(a, context=SEEDER)
    return a


@pytest.mark.parametrize("step", list(CHANGES))
async def test_a_meeting_of_another_forum_is_refused(
    client: Client,
    issue: Tokens,
    world: World,
    repository: Repository,
    pool: asyncpg.Pool,
    step: str,
) -> None:
    rule = await seed_decision_rule(world)
    target = await adopted(world)
    theirs = forum_of(await seed_world(repository, ("dev",)))
    meeting = Meeting.schedule(uuid.uuid4(), theirs.id, "Elsewhere", STARTS_AT)
    await repository.save(meeting, context=SEEDER)
    before = await events(pool)

    r = await client.post(
        f"/agreements/{target.id}/{step}",
        json=CHANGES[step] | {"decision_rule_id": str(rule.id), "meeting_id": str(meeting.id)},
        headers=await as_amina(issue, world),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "meeting_id"
    assert await events(pool) == before


async def test_a_decision_rule_is_amended_under_itself_at_its_version_before(
    client: Client, issue: Tokens, world: World
) -> None:
    rule = await seed_decision_rule(world)
    body = {"text": "No reasoned objection from a member present", "reason": "Say who"}

    r = await client.post(
        f"/agreements/{rule.id}/amendments",
        json=body | {"decision_rule_id": str(rule.id)},
        headers=await as_amina(issue, world),
    )

    assert r.status_code == 200, r.text
    got = await view(client, issue, rule.id)
    assert (got["version"], got["in_force"]) == (3, True)
    assert got["last_amendment"]["decision"]["rule_id"] == str(rule.id)
    assert got["last_amendment"]["decision"]["rule_version"] == 2


@pytest.mark.parametrize("step", list(CHANGES))
async def test_a_forum_with_no_rule_in_force_changes_an_agreement_under_none(
    client: Client, issue: Tokens, world: World, step: str
) -> None:
    target = await adopted(world)

    r = await client.post(
        f"/agreements/{target.id}/{step}", json=CHANGES[step], headers=await as_amina(issue, world)
    )

    assert r.status_code == 200, r.text
    change = (await view(client, issue, target.id))[
        "last_amendment" if step == "amendments" else "rescission"
    ]
    assert change == {"reason": CHANGES[step]["reason"], "decision": None, "meeting_id": None}


@pytest.mark.parametrize(("step", "kind"), [("amendments", "amended"), ("rescission", "rescinded")])
async def test_a_change_stored_before_changes_named_a_rule_still_loads(
    client: Client, issue: Tokens, world: World, repository: Repository, step: str, kind: str
) -> None:
    target = await adopted(world)
    payload = {"reason": "Long ago"} | ({"text": "Old text"} if kind == "amended" else {})
    old = NewEvent(type=f"agreement.{kind}", payload=payload, type_version=1, occurred_at=STARTS_AT)
    append = StreamAppend(
        stream_id=target.id, stream_type="agreement", expected_version=2, events=[old]
    )
    await repository.store.append(append, context=SEEDER)

    got = await view(client, issue, target.id)

    change = got["last_amendment" if kind == "amended" else "rescission"]
    assert change == {"reason": "Long ago", "decision": None, "meeting_id": None}
    assert got["version"] == 3
