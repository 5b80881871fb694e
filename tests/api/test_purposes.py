"""Purposes through the real app: proposing, endorsing, revising, adopting and retiring."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_decision_rule, seed_world
from tests.clock import Clock
from tracker.domain import Attendance, Forum, Leader, Meeting, Organisation
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
# An adoption under the forum's decision rule in force: `world` seeds a new rule for each test
# and names it here (a fixed id would meet the last test's rule in the app's stream cache).
RULED = {"decision_rule_id": ""}


@pytest.fixture
async def world(client: Client, repository: Repository) -> World:
    """Amina convenes the forum; Ben and Chloe are members; one purpose is proposed; the
    forum decides by consent of the members present."""
    world = await seed_world(repository)
    RULED["decision_rule_id"] = str((await seed_decision_rule(world)).id)
    return world


@pytest.fixture
def purpose_url(world: World) -> str:
    assert world.purpose is not None
    return f"/purposes/{world.purpose.id}"


async def events(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def as_leader(issue: Tokens, world: World, name: str) -> dict[str, str]:
    return await issue.headers("leader", world.id(name))


async def get(client: Client, url: str, issue: Tokens) -> Any:
    response = await client.get(url, headers=await issue.headers("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def proposal(world: World, **extra: Any) -> dict[str, Any]:
    assert world.forum is not None
    return {"forum_id": str(world.forum.id), "statement": "Every carer has a break"} | extra


async def test_a_member_proposes_a_purpose_and_reads_it_back(
    client: Client, issue: Tokens, world: World
) -> None:
    r = await client.post(
        "/purposes", json=proposal(world), headers=await as_leader(issue, world, "ben")
    )

    assert r.status_code == 201, r.text
    purpose_id = r.json()["stream_id"]
    assert r.headers["location"] == f"/purposes/{purpose_id}"
    got = await client.get(f"/purposes/{purpose_id}", headers=await as_leader(issue, world, "ben"))
    assert got.headers["etag"] == '"1"'
    view = got.json()
    assert (view["status"], view["statement"]) == ("proposed", "Every carer has a break")
    assert view["proposed_by"] == str(world.id("ben"))
    assert (view["endorsements"], view["revisions"], view["decision_rule"]) == ([], 0, None)


async def test_an_integration_proposes_on_behalf_of_a_member(
    client: Client, issue: Tokens, world: World
) -> None:
    headers = await issue.headers("integration") | {"On-Behalf-Of": str(world.id("chloe"))}

    r = await client.post("/purposes", json=proposal(world), headers=headers)

    assert r.status_code == 201, r.text
    view = await get(client, f"/purposes/{r.json()['stream_id']}", issue)
    assert view["proposed_by"] == str(world.id("chloe"))


async def test_an_integration_must_name_the_member_it_proposes_for(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool
) -> None:
    before = await events(pool)

    r = await client.post(
        "/purposes", json=proposal(world), headers=await issue.headers("integration")
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "On-Behalf-Of"
    assert await events(pool) == before


@pytest.mark.parametrize(
    ("kind", "on_behalf", "rule"),
    [
        ("leader", False, "only-forum-members-can-propose-purposes"),
        ("integration", True, "only-forum-members-can-propose-purposes"),
        ("auditor", False, "auditors-only-read"),
        ("admin", False, "only-forum-members-can-propose-purposes"),
    ],
)
async def test_only_forum_members_propose_purposes(
    client: Client,
    issue: Tokens,
    world: World,
    pool: asyncpg.Pool,
    kind: str,
    on_behalf: bool,
    rule: str,
) -> None:
    outsider = uuid.uuid4()
    headers = await issue.headers(kind, outsider if kind == "leader" else None)
    if on_behalf:
        headers |= {"On-Behalf-Of": str(outsider)}
    before = await events(pool)

    r = await client.post("/purposes", json=proposal(world), headers=headers)

    if kind == "leader":
        # A forum the leader cannot see is, to them, an unknown id.
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "forum_id"
    else:
        assert r.status_code == 403, r.text
        assert r.json()["rule"] == rule
    assert await events(pool) == before


async def test_proposing_without_a_token_is_unauthorised(client: Client, world: World) -> None:
    r = await client.post("/purposes", json=proposal(world))

    assert r.status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"forum_id": str(uuid.uuid4())}, "forum_id"),
        ({"statement": "x" * 4001}, "statement"),
        ({"statement": ""}, "statement"),
        ({"forum_id": 42}, "forum_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_an_invalid_proposal_names_the_field_and_writes_nothing(
    client: Client,
    issue: Tokens,
    world: World,
    pool: asyncpg.Pool,
    change: dict[str, Any],
    field: str,
) -> None:
    before = await events(pool)

    r = await client.post(
        "/purposes", json=proposal(world) | change, headers=await as_leader(issue, world, "ben")
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert await events(pool) == before


async def test_a_retried_proposal_with_the_same_key_is_replayed_not_repeated(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool
) -> None:
    headers = await as_leader(issue, world, "ben") | {"Idempotency-Key": "p-1"}
    first = await client.post("/purposes", json=proposal(world), headers=headers)
    before = await events(pool)

    again = await client.post("/purposes", json=proposal(world), headers=headers)

    assert again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == before


async def test_a_proposal_with_the_same_external_reference_is_replayed_not_repeated(
    client: Client, issue: Tokens, world: World, pool: asyncpg.Pool
) -> None:
    body = proposal(world, source_system="minutes", external_id="item-7")
    minutes = await issue.headers("integration", name="minutes")
    headers = minutes | {"On-Behalf-Of": str(world.id("ben"))}
    first = await client.post("/purposes", json=body, headers=headers)
    before = await events(pool)

    again = await client.post("/purposes", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == before


async def test_an_unknown_purpose_is_not_found(client: Client, issue: Tokens, world: World) -> None:
    r = await client.get(f"/purposes/{uuid.uuid4()}", headers=await issue.headers("auditor"))

    assert r.status_code == 404


async def test_reading_a_purpose_needs_a_token(client: Client, purpose_url: str) -> None:
    r = await client.get(purpose_url)

    assert r.status_code == 401


async def test_a_member_revises_the_statement_with_a_reason(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    r = await client.post(
        f"{purpose_url}/revisions",
        json={"statement": "Nobody is cold or lonely this winter", "reason": "Loneliness too"},
        headers=await as_leader(issue, world, "chloe") | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    view = await get(client, purpose_url, issue)
    assert view["statement"] == "Nobody is cold or lonely this winter"
    assert view["revisions"] == 1


async def test_an_unchanged_statement_is_not_a_revision(
    client: Client, issue: Tokens, world: World, purpose_url: str, pool: asyncpg.Pool
) -> None:
    before = await events(pool)

    r = await client.post(
        f"{purpose_url}/revisions",
        json={"statement": "Nobody is cold this winter", "reason": "Again"},
        headers=await as_leader(issue, world, "ben"),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "statement"
    assert await events(pool) == before


async def test_a_member_endorses_and_their_affiliation_today_is_kept(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    r = await client.post(
        f"{purpose_url}/endorsements", json={}, headers=await as_leader(issue, world, "ben")
    )

    assert r.status_code == 200, r.text
    [endorsement] = (await get(client, purpose_url, issue))["endorsements"]
    assert endorsement == {
        "leader_id": str(world.id("ben")),
        "affiliation": {
            "organisation_id": str(world.organisations["ben"].id),
            "organisation_name": "Ben Council",
            "title": "Director",
        },
    }


async def test_an_endorsement_may_have_no_body_at_all(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    r = await client.post(
        f"{purpose_url}/endorsements", headers=await as_leader(issue, world, "chloe")
    )

    assert r.status_code == 200, r.text
    [endorsement] = (await get(client, purpose_url, issue))["endorsements"]
    assert endorsement["leader_id"] == str(world.id("chloe"))


async def test_an_endorser_with_no_affiliation_that_day_is_kept_without_one(
    client: Client, issue: Tokens, world: World, purpose_url: str, clock: Clock
) -> None:
    clock.moment = datetime(2019, 6, 1, 12, 0, tzinfo=UTC)  # before every seeded affiliation

    r = await client.post(
        f"{purpose_url}/endorsements", json={}, headers=await as_leader(issue, world, "chloe")
    )

    assert r.status_code == 200, r.text
    [endorsement] = (await get(client, purpose_url, issue))["endorsements"]
    assert endorsement["affiliation"] is None


async def test_the_affiliation_is_the_one_held_on_the_forums_local_date(
    client: Client,
    issue: Tokens,
    world: World,
    purpose_url: str,
    clock: Clock,
    repository: Repository,
) -> None:
    assert world.forum is not None
    trust = Organisation.register(uuid.uuid4(), "Riverside Trust", "nhs")
    dana = Leader.register(uuid.uuid4(), "Dana")
    dana.record_affiliation(trust.id, "Chief Nurse", date(2026, 6, 1))
    forum = await repository.get(Forum, world.forum.id)
    forum.join(dana.id)
    await repository.save(trust, dana, forum, context=SEEDER)
    clock.moment = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # already 1 June in London

    r = await client.post(
        f"{purpose_url}/endorsements", json={}, headers=await issue.headers("leader", dana.id)
    )

    assert r.status_code == 200, r.text
    [endorsement] = (await get(client, purpose_url, issue))["endorsements"]
    assert endorsement["affiliation"]["organisation_name"] == "Riverside Trust"


async def test_a_leader_cannot_endorse_twice(
    client: Client, issue: Tokens, world: World, purpose_url: str, pool: asyncpg.Pool
) -> None:
    headers = await as_leader(issue, world, "ben")
    await client.post(f"{purpose_url}/endorsements", json={}, headers=headers)
    before = await events(pool)

    r = await client.post(f"{purpose_url}/endorsements", json={}, headers=headers)

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "by"
    assert await events(pool) == before


async def test_an_endorser_withdraws_their_endorsement(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    headers = await as_leader(issue, world, "ben")
    await client.post(f"{purpose_url}/endorsements", json={}, headers=headers)

    r = await client.post(f"{purpose_url}/endorsement-withdrawals", headers=headers)

    assert r.status_code == 200, r.text
    assert (await get(client, purpose_url, issue))["endorsements"] == []


async def test_a_leader_who_has_not_endorsed_has_nothing_to_withdraw(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    r = await client.post(
        f"{purpose_url}/endorsement-withdrawals", headers=await as_leader(issue, world, "ben")
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "by"


async def test_a_steward_adopts_the_purpose_at_a_meeting_naming_the_decision_rule(
    client: Client, issue: Tokens, world: World, purpose_url: str, repository: Repository
) -> None:
    assert world.forum is not None
    meeting = Meeting.schedule(
        uuid.uuid4(), world.forum.id, "November", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    )
    meeting.open()
    meeting.record_attendance([Attendance(world.id("ben"), "attended")])
    await repository.save(meeting, context=SEEDER)

    r = await client.post(
        f"{purpose_url}/adoption",
        json=RULED | {"meeting_id": str(meeting.id)},
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 200, r.text
    view = await get(client, purpose_url, issue)
    assert (view["status"], view["decision_rule"]) == ("adopted", "Consent of members present")
    assert view["decision"] == {
        "rule": "Consent of members present",
        "rule_id": RULED["decision_rule_id"],
        "rule_version": 2,
        "present": [str(world.id("ben"))],
        "consented_by": [],
    }


async def test_an_integration_records_an_adoption_for_the_forum(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    r = await client.post(
        f"{purpose_url}/adoption", json=RULED, headers=await issue.headers("integration")
    )

    assert r.status_code == 200, r.text


@pytest.mark.parametrize("elsewhere", [False, True], ids=["unknown", "another-forums"])
async def test_an_adoption_names_a_meeting_of_the_purposes_forum(
    client: Client,
    issue: Tokens,
    world: World,
    purpose_url: str,
    repository: Repository,
    pool: asyncpg.Pool,
    elsewhere: bool,
) -> None:
    meeting_id = uuid.uuid4()
    if elsewhere:
        other = Forum.convene(uuid.uuid4(), "Another", world.id("amina"))
        meeting = Meeting.schedule(
            meeting_id, other.id, "Theirs", datetime(2026, 11, 20, tzinfo=UTC)
        )
        await repository.save(other, meeting, context=SEEDER)
    before = await events(pool)

    r = await client.post(
        f"{purpose_url}/adoption",
        json=RULED | {"meeting_id": str(meeting_id)},
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "meeting_id"
    assert await events(pool) == before


async def test_an_adopted_purpose_cannot_be_adopted_again(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    headers = await as_leader(issue, world, "amina")
    await client.post(f"{purpose_url}/adoption", json=RULED, headers=headers)

    r = await client.post(f"{purpose_url}/adoption", json=RULED, headers=headers)

    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == "adopted"


async def test_a_steward_retires_the_purpose_with_a_reason(
    client: Client, issue: Tokens, world: World, purpose_url: str
) -> None:
    r = await client.post(
        f"{purpose_url}/retirement",
        json={"reason": "Merged into the winter plan"},
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 200, r.text
    assert (await get(client, purpose_url, issue))["status"] == "retired"


# Every command on an existing purpose: its path, a valid body, and who may send it.
COMMANDS = {
    "revisions": ({"statement": "A new aim", "reason": "Clearer"}, "ben"),
    "endorsements": ({}, "ben"),
    "endorsement-withdrawals": (None, "ben"),
    "adoption": (RULED, "amina"),
    "retirement": ({"reason": "Done"}, "amina"),
}


async def send(
    client: Client, url: str, step: str, headers: dict[str, str], body: Any = ...
) -> Any:
    default, _ = COMMANDS[step]
    payload = default if body is ... else body
    return await client.post(f"{url}/{step}", json=payload, headers=headers)


@pytest.mark.parametrize(
    ("step", "kind", "who", "rule"),
    [
        ("revisions", "leader", "outsider", ""),
        ("endorsements", "leader", "outsider", ""),
        ("endorsements", "integration", None, "only-the-leader-themselves-can-endorse-purposes"),
        (
            "endorsement-withdrawals",
            "integration",
            None,
            "only-the-leader-themselves-can-withdraw-endorsements",
        ),
        ("adoption", "leader", "ben", "only-stewards-can-adopt-purposes"),
        ("retirement", "leader", "ben", "only-stewards-can-retire-purposes"),
    ]
    + [(step, "auditor", None, "auditors-only-read") for step in COMMANDS],
)
async def test_a_command_from_the_wrong_caller_is_refused_by_rule_and_writes_nothing(
    client: Client,
    issue: Tokens,
    world: World,
    purpose_url: str,
    pool: asyncpg.Pool,
    step: str,
    kind: str,
    who: str | None,
    rule: str,
) -> None:
    leader_id = uuid.uuid4() if who == "outsider" else world.id(who) if who else None
    before = await events(pool)

    r = await send(client, purpose_url, step, await issue.headers(kind, leader_id))

    # To a leader of no forum of the purpose's, it is an unknown id.
    assert r.status_code == (403 if rule else 404), r.text
    assert r.json().get("rule", "") == rule
    assert await events(pool) == before


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_command_on_an_unknown_purpose_is_not_found(
    client: Client, issue: Tokens, world: World, step: str
) -> None:
    headers = await as_leader(issue, world, COMMANDS[step][1])

    r = await send(client, f"/purposes/{uuid.uuid4()}", step, headers)

    assert r.status_code == 404, r.text


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_command_without_a_token_is_unauthorised(
    client: Client, world: World, purpose_url: str, step: str
) -> None:
    r = await send(client, purpose_url, step, {})

    assert r.status_code == 401, r.text


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_command_for_another_version_fails_its_precondition(
    client: Client, issue: Tokens, world: World, purpose_url: str, pool: asyncpg.Pool, step: str
) -> None:
    headers = await as_leader(issue, world, COMMANDS[step][1]) | {"If-Match": '"99"'}
    before = await events(pool)

    r = await send(client, purpose_url, step, headers)

    assert r.status_code == 412, r.text
    assert r.json()["current_version"] == 1
    assert await events(pool) == before


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_retired_purpose_takes_no_more_commands(
    client: Client, issue: Tokens, world: World, purpose_url: str, pool: asyncpg.Pool, step: str
) -> None:
    await send(client, purpose_url, "retirement", await as_leader(issue, world, "amina"))
    before = await events(pool)

    r = await send(client, purpose_url, step, await as_leader(issue, world, COMMANDS[step][1]))

    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == "retired"
    assert await events(pool) == before


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("revisions", {"statement": "New", "reason": "x" * 2001}, "reason"),
        ("revisions", {"statement": "New"}, "reason"),
        ("revisions", {"statement": 7, "reason": "Why"}, "statement"),
        ("endorsements", {"colour": "blue"}, "colour"),
        ("adoption", {"decision_rule": "Because Helen said so"}, "decision_rule"),
        ("adoption", {}, "decision_rule_id"),
        ("adoption", {"decision_rule_id": str(uuid.uuid4())}, "decision_rule_id"),
        ("adoption", {"bootstrap": "consent", "consented_by": [str(uuid.uuid4())]}, "bootstrap"),
        ("adoption", {"decision_rule_id": str(uuid.uuid4()), "meeting_id": "soon"}, "meeting_id"),
        ("retirement", {"reason": ""}, "reason"),
        ("retirement", {"reason": "Done", "by": "me"}, "by"),
    ],
)
async def test_an_invalid_command_body_names_the_field_and_writes_nothing(
    client: Client,
    issue: Tokens,
    world: World,
    purpose_url: str,
    pool: asyncpg.Pool,
    step: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = await events(pool)

    r = await send(
        client, purpose_url, step, await as_leader(issue, world, COMMANDS[step][1]), body
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert await events(pool) == before
