"""A decision names a decision rule of the forum in force, by id; bootstrap consent adopts the
first one. Each refusal is a 422 naming the field, and writes nothing."""

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
from tracker.domain import Agreement, Attendance, Meeting, Purpose
from tracker.eventstore import NewEvent, StreamAppend
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
async def world(client: Client, repository: Repository) -> World:
    """Amina convenes the forum; Ben and Chloe are members; one purpose; no rule yet."""
    return await seed_world(repository)


async def events(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def as_amina(issue: Tokens, world: World) -> dict[str, str]:
    return await issue.headers("leader", world.id("amina"))


def purpose_of(world: World) -> Purpose:
    assert world.purpose is not None
    return world.purpose


async def agreement(world: World, kind: str = "decision_rule", title: str = "Majority") -> Any:
    """A proposed forum agreement, saved."""
    assert world.forum is not None
    a = Agreement.propose(
        uuid.uuid4(), "forum", world.forum.id, kind, title, "Half the members and one more",
        world.id("ben"),
    )  # fmt: skip
    await world.repository.save(a, context=SEEDER)
    return a


async def refusal(client: Client, url: str, body: dict[str, Any], headers: Any) -> Any:
    r = await client.post(f"{url}/adoption", json=body, headers=headers)
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    return error


async def test_free_text_is_no_longer_a_decision_rule(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool
) -> None:
    before = await events(pool)
    url = f"/purposes/{purpose_of(world).id}"

    error = await refusal(
        client, url, {"decision_rule": "Because Helen said so"}, await as_amina(issue, world)
    )

    assert error["field"] == "decision_rule"
    assert await events(pool) == before


async def test_a_forum_without_a_rule_in_force_adopts_no_purpose(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool
) -> None:
    url = f"/purposes/{purpose_of(world).id}"
    rule = await agreement(world)
    before = await events(pool)

    error = await refusal(
        client, url, {"decision_rule_id": str(rule.id)}, await as_amina(issue, world)
    )

    assert error == {"field": "decision_rule_id", "message": "the decision rule is not adopted yet"}
    assert await events(pool) == before


async def test_a_rule_of_another_forum_is_refused_exactly_as_an_unknown_one(
    client: Client, issue: Tokens, world: World, repository: Repository
) -> None:
    await seed_decision_rule(world)
    theirs = await seed_decision_rule(await seed_world(repository, ("dev", "eve")))
    unknown = uuid.uuid4()
    url = f"/purposes/{purpose_of(world).id}"
    headers = await as_amina(issue, world)

    elsewhere = await refusal(client, url, {"decision_rule_id": str(theirs.id)}, headers)
    nowhere = await refusal(client, url, {"decision_rule_id": str(unknown)}, headers)

    assert elsewhere["field"] == nowhere["field"] == "decision_rule_id"
    assert elsewhere["message"] == f"no such decision rule: {theirs.id}"
    assert nowhere["message"] == f"no such decision rule: {unknown}"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("rescinded", "the decision rule is rescinded, not in force"),
        ("expectation", "an agreement of kind expectation, not a decision rule"),
    ],
)
async def test_a_rule_out_of_force_or_of_the_wrong_kind_is_refused(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool, state: str, message: str
) -> None:
    rule = await seed_decision_rule(world)
    named = await agreement(
        world, kind="expectation" if state == "expectation" else "decision_rule"
    )
    named.adopt(RULED)
    if state == "rescinded":
        named.rescind("Replaced by consent")
    await world.repository.save(named, context=SEEDER)
    target = await agreement(world, kind="constraint", title="Data sharing")
    before = await events(pool)

    error = await refusal(
        client,
        f"/agreements/{target.id}",
        {"decision_rule_id": str(named.id)},
        await as_amina(issue, world),
    )

    assert error == {"field": "decision_rule_id", "message": message}
    assert await events(pool) == before
    under_rule = {"decision_rule_id": str(rule.id)}
    r = await client.post(
        f"/agreements/{target.id}/adoption", json=under_rule, headers=await as_amina(issue, world)
    )
    assert r.status_code == 200, r.text


async def test_a_decision_records_the_rules_version_as_amended_then(
    client: Client, issue: Tokens, world: World
) -> None:
    rule = await seed_decision_rule(world)
    rule.amend("No reasoned objection from a member present", "Say who may object")
    await world.repository.save(rule, context=SEEDER)
    url = f"/purposes/{purpose_of(world).id}"

    r = await client.post(
        f"{url}/adoption",
        json={"decision_rule_id": str(rule.id)},
        headers=await as_amina(issue, world),
    )

    assert r.status_code == 200, r.text
    got = await client.get(url, headers=await issue.headers("auditor"))
    assert (got.json()["decision"]["rule_id"], got.json()["decision"]["rule_version"]) == (
        str(rule.id),
        3,
    )


async def test_bootstrap_consent_at_a_meeting_is_every_member_present(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool
) -> None:
    assert world.forum is not None
    meeting = Meeting.schedule(uuid.uuid4(), world.forum.id, "First board", STARTS_AT)
    meeting.open()
    amina, ben, chloe = world.id("amina"), world.id("ben"), world.id("chloe")
    meeting.record_attendance([Attendance(amina, "attended"), Attendance(ben, "attended")])
    await world.repository.save(meeting, context=SEEDER)
    rule = await agreement(world)
    url, headers = f"/agreements/{rule.id}", await as_amina(issue, world)
    consent = {"bootstrap": "consent", "meeting_id": str(meeting.id)}
    before = await events(pool)

    missing = await refusal(client, url, consent | {"consented_by": [str(amina)]}, headers)
    absent = await refusal(
        client, url, consent | {"consented_by": [str(amina), str(chloe)]}, headers
    )
    assert await events(pool) == before
    r = await client.post(
        f"{url}/adoption", json=consent | {"consented_by": [str(amina), str(ben)]}, headers=headers
    )

    assert missing == {
        "field": "consented_by",
        "message": f"every member present consents: {ben}",
    }
    assert absent == {"field": "consented_by", "message": f"not members present: {chloe}"}
    assert r.status_code == 200, r.text
    decision = (await client.get(url, headers=headers)).json()["decision"]
    assert decision == {
        "rule": "bootstrap consent",
        "rule_id": None,
        "rule_version": None,
        "present": [str(amina), str(ben)],
        "consented_by": [str(amina), str(ben)],
    }


async def test_a_purpose_is_never_adopted_by_bootstrap_consent(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"bootstrap": "consent", "consented_by": [str(i.id) for i in world.leaders.values()]}

    error = await refusal(
        client, f"/purposes/{purpose_of(world).id}", body, await as_amina(issue, world)
    )

    assert error["field"] == "bootstrap"


async def test_a_rule_and_bootstrap_consent_together_are_refused(
    client: Client, issue: Tokens, world: World
) -> None:
    rule = await seed_decision_rule(world)
    target = await agreement(world)
    body = {"decision_rule_id": str(rule.id), "bootstrap": "consent", "consented_by": []}

    error = await refusal(client, f"/agreements/{target.id}", body, await as_amina(issue, world))

    assert error["field"] == "bootstrap"


async def test_an_adoption_stored_before_rules_were_named_by_id_still_loads(
    client: Client, issue: Tokens, world: World, repository: Repository
) -> None:
    purpose = purpose_of(world)
    old = NewEvent(
        type="purpose.adopted",
        payload={"decision_rule": "Because Helen said so", "meeting_id": None},
        type_version=1,
        occurred_at=STARTS_AT,
    )
    append = StreamAppend(
        stream_id=purpose.id, stream_type="purpose", expected_version=1, events=[old]
    )
    await repository.store.append(append, context=SEEDER)

    got = await client.get(f"/purposes/{purpose.id}", headers=await issue.headers("auditor"))

    assert got.status_code == 200, got.text
    assert (got.json()["status"], got.json()["decision_rule"]) == (
        "adopted",
        "Because Helen said so",
    )
    assert got.json()["decision"]["rule_id"] is None
