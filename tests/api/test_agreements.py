"""Agreements through the real app: proposed by members; adopted, amended, rescinded by stewards."""

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
from tracker.domain import Agreement, Attendance, Forum, Meeting, Purpose
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
BOOTSTRAP = "bootstrap consent"
Body = dict[str, Any]


@pytest.fixture
async def world(client: Client, repository: Repository) -> World:
    """Amina convenes (and stewards) the forum; Ben and Chloe are members; one purpose."""
    return await seed_world(repository)


@pytest.fixture
def forum(world: World) -> Forum:
    assert world.forum is not None
    return world.forum


@pytest.fixture
def purpose(world: World) -> Purpose:
    assert world.purpose is not None
    return world.purpose


@pytest.fixture
def consent(world: World) -> Body:
    """Bootstrap consent of every member of the forum, outside a meeting."""
    return {"bootstrap": "consent", "consented_by": [str(i.id) for i in world.leaders.values()]}


@pytest.fixture
async def ruled(world: World) -> Body:
    """An adoption under the forum's decision rule in force."""
    return {"decision_rule_id": str((await seed_decision_rule(world)).id)}


@pytest.fixture
async def agreement_url(world: World, forum: Forum, repository: Repository) -> str:
    """A proposed expectation of the forum, at version 1."""
    agreement = Agreement.propose(
        uuid.uuid4(),
        "forum",
        forum.id,
        "expectation",
        "Papers",
        "Papers a week ahead",
        world.id("ben"),
    )
    await repository.save(agreement, context=SEEDER)
    return f"/agreements/{agreement.id}"


async def events(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def as_leader(issue: Tokens, world: World, name: str) -> dict[str, str]:
    return await issue.headers("leader", world.id(name))


async def get(client: Client, url: str, issue: Tokens) -> Any:
    response = await client.get(url, headers=await issue.headers("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def proposal(scope_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "scope": "forum",
        "scope_id": str(scope_id),
        "kind": "decision_rule",
        "title": "How we decide",
        "text": "By consent of the members present",
    } | extra


async def propose(client: Client, headers: dict[str, str], body: dict[str, Any]) -> str:
    r = await client.post("/agreements", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return f"/agreements/{r.json()['stream_id']}"


async def adopt(client: Client, url: str, headers: dict[str, str], body: Body) -> Any:
    return await client.post(f"{url}/adoption", json=body, headers=headers)


async def test_a_member_proposes_an_agreement_for_the_forum_and_reads_it_back(
    client: Client, issue: Tokens, world: World, forum: Forum
) -> None:
    r = await client.post(
        "/agreements", json=proposal(forum.id), headers=await as_leader(issue, world, "ben")
    )

    assert r.status_code == 201, r.text
    agreement_id = r.json()["stream_id"]
    assert r.headers["location"] == f"/agreements/{agreement_id}"
    got = await client.get(f"/agreements/{agreement_id}", headers=await issue.headers("auditor"))
    assert got.headers["etag"] == '"1"'
    view = got.json()
    assert (view["scope"], view["scope_id"], view["kind"]) == (
        "forum",
        str(forum.id),
        "decision_rule",
    )
    assert (view["status"], view["in_force"], view["decision_rule"]) == ("proposed", False, None)
    assert view["proposed_by"] == str(world.id("ben"))


async def test_a_member_of_the_purposes_forum_proposes_an_agreement_for_the_purpose(
    client: Client, issue: Tokens, world: World, purpose: Purpose
) -> None:
    body = proposal(purpose.id, scope="purpose", kind="constraint", title="Data sharing")

    url = await propose(client, await as_leader(issue, world, "chloe"), body)

    view = await get(client, url, issue)
    assert (view["scope"], view["scope_id"]) == ("purpose", str(purpose.id))


async def test_an_integration_proposes_on_behalf_of_a_member(
    client: Client, issue: Tokens, world: World, forum: Forum
) -> None:
    headers = await issue.headers("integration") | {"On-Behalf-Of": str(world.id("chloe"))}

    url = await propose(client, headers, proposal(forum.id, kind="expectation"))

    assert (await get(client, url, issue))["proposed_by"] == str(world.id("chloe"))


@pytest.mark.parametrize(
    ("kind", "on_behalf", "rule"),
    [
        ("leader", False, "only-forum-members-can-propose-agreements"),
        ("integration", True, "only-forum-members-can-propose-agreements"),
        ("auditor", False, "auditors-only-read"),
        ("admin", False, "only-forum-members-can-propose-agreements"),
    ],
)
@pytest.mark.parametrize("scope", ["forum", "purpose"])
async def test_only_members_of_the_forum_propose_agreements(
    client: Client,
    issue: Tokens,
    forum: Forum,
    purpose: Purpose,
    pool: asyncpg.Pool,
    kind: str,
    on_behalf: bool,
    rule: str,
    scope: str,
) -> None:
    outsider = uuid.uuid4()
    headers = await issue.headers(kind, outsider if kind == "leader" else None)
    if on_behalf:
        headers |= {"On-Behalf-Of": str(outsider)}
    scope_id = forum.id if scope == "forum" else purpose.id
    before = await events(pool)

    r = await client.post("/agreements", json=proposal(scope_id, scope=scope), headers=headers)

    if kind == "leader":
        # A forum, or a purpose of a forum, the leader cannot see is, to them, an unknown id.
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "scope_id"
    else:
        assert r.status_code == 403, r.text
        assert r.json()["rule"] == rule
    assert await events(pool) == before


async def test_proposing_without_a_token_is_unauthorised(client: Client, forum: Forum) -> None:
    r = await client.post("/agreements", json=proposal(forum.id))

    assert r.status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scope_id": str(uuid.uuid4())}, "scope_id"),
        ({"scope": "purpose"}, "scope_id"),
        ({"scope": "organisation"}, "scope"),
        ({"kind": "wish"}, "kind"),
        ({"title": "x" * 201}, "title"),
        ({"text": ""}, "text"),
        ({"scope_id": 5}, "scope_id"),
        ({"adopted": True}, "adopted"),
    ],
)
async def test_an_invalid_proposal_names_the_field_and_writes_nothing(
    client: Client,
    issue: Tokens,
    world: World,
    forum: Forum,
    pool: asyncpg.Pool,
    change: dict[str, Any],
    field: str,
) -> None:
    before = await events(pool)

    r = await client.post(
        "/agreements",
        json=proposal(forum.id) | change,
        headers=await as_leader(issue, world, "ben"),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert await events(pool) == before


async def test_a_retired_purpose_takes_no_new_agreements(
    client: Client, issue: Tokens, world: World, purpose: Purpose, repository: Repository
) -> None:
    retired = await repository.get(Purpose, purpose.id)
    retired.retire("Achieved")
    await repository.save(retired, context=SEEDER)

    r = await client.post(
        "/agreements",
        json=proposal(purpose.id, scope="purpose", kind="expectation"),
        headers=await as_leader(issue, world, "ben"),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "scope_id"


async def test_a_retried_proposal_with_the_same_key_is_replayed_not_repeated(
    client: Client, issue: Tokens, world: World, forum: Forum, pool: asyncpg.Pool
) -> None:
    headers = await as_leader(issue, world, "ben") | {"Idempotency-Key": "a-1"}
    first = await client.post("/agreements", json=proposal(forum.id), headers=headers)
    before = await events(pool)

    again = await client.post("/agreements", json=proposal(forum.id), headers=headers)

    assert again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == before


async def test_a_proposal_with_the_same_external_reference_is_replayed_not_repeated(
    client: Client, issue: Tokens, world: World, forum: Forum, pool: asyncpg.Pool
) -> None:
    body = proposal(forum.id, source_system="minutes", external_id="item-9")
    minutes = await issue.headers("integration", name="minutes")
    headers = minutes | {"On-Behalf-Of": str(world.id("ben"))}
    first = await client.post("/agreements", json=body, headers=headers)
    before = await events(pool)

    again = await client.post("/agreements", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == before


async def test_an_unknown_agreement_is_not_found(client: Client, issue: Tokens) -> None:
    r = await client.get(f"/agreements/{uuid.uuid4()}", headers=await issue.headers("auditor"))

    assert r.status_code == 404


async def test_reading_an_agreement_needs_a_token(client: Client, agreement_url: str) -> None:
    r = await client.get(agreement_url)

    assert r.status_code == 401


async def test_a_steward_adopts_an_agreement_at_a_meeting_naming_the_decision_rule(
    client: Client,
    issue: Tokens,
    world: World,
    forum: Forum,
    agreement_url: str,
    repository: Repository,
    ruled: Body,
) -> None:
    meeting = Meeting.schedule(
        uuid.uuid4(), forum.id, "November", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    )
    meeting.open()
    amina, ben, chloe = world.id("amina"), world.id("ben"), world.id("chloe")
    meeting.record_attendance(
        [Attendance(amina, "attended"), Attendance(ben, "attended"), Attendance(chloe, "apologies")]
    )
    await repository.save(meeting, context=SEEDER)

    r = await client.post(
        f"{agreement_url}/adoption",
        json=ruled | {"meeting_id": str(meeting.id)},
        headers=await as_leader(issue, world, "amina") | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    view = await get(client, agreement_url, issue)
    assert (view["status"], view["in_force"]) == ("adopted", True)
    assert (view["decision_rule"], view["meeting_id"]) == (
        "Consent of members present",
        str(meeting.id),
    )
    assert view["decision"] == {
        "rule": "Consent of members present",
        "rule_id": ruled["decision_rule_id"],
        "rule_version": 2,
        "present": [str(amina), str(ben)],
        "consented_by": [],
    }
    # An expectation is not one of the forum's decision rules.
    rules = (await repository.get(Forum, forum.id)).decision_rules
    assert rules == {uuid.UUID(ruled["decision_rule_id"])}


async def test_a_forums_first_decision_rule_is_adopted_by_bootstrap_consent_and_no_later_one(
    client: Client,
    issue: Tokens,
    world: World,
    forum: Forum,
    pool: asyncpg.Pool,
    repository: Repository,
    consent: Body,
) -> None:
    as_ben, as_amina = await as_leader(issue, world, "ben"), await as_leader(issue, world, "amina")
    first = await propose(client, as_ben, proposal(forum.id))
    second = await propose(client, as_ben, proposal(forum.id, title="Majority"))

    bootstrapped = await adopt(client, first, as_amina, consent)
    before = await events(pool)
    refused = await adopt(client, second, as_amina, consent)

    assert bootstrapped.status_code == 200, bootstrapped.text
    view = await get(client, first, issue)
    assert view["decision_rule"] == BOOTSTRAP
    assert (view["decision"]["rule_id"], view["decision"]["consented_by"]) == (
        None,
        consent["consented_by"],
    )
    assert (await repository.get(Forum, forum.id)).decision_rules == {uuid.UUID(first[-36:])}
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "bootstrap"
    assert await events(pool) == before
    under_first = {"decision_rule_id": first[-36:]}
    assert (await adopt(client, second, as_amina, under_first)).status_code == 200


async def test_adopting_a_forums_decision_rule_records_it_on_the_forum_in_the_same_save(
    client: Client, issue: Tokens, world: World, forum: Forum, pool: asyncpg.Pool, consent: Body
) -> None:
    url = await propose(client, await as_leader(issue, world, "ben"), proposal(forum.id))
    last = await pool.fetchval("SELECT max(position) FROM events")

    r = await adopt(client, url, await as_leader(issue, world, "amina"), consent)

    assert r.status_code == 200, r.text
    rows = await pool.fetch(
        "SELECT type, stream_id, transaction_id::text AS tx FROM events WHERE position > $1", last
    )
    assert {row["type"] for row in rows} == {"agreement.adopted", "forum.decision_rule_adopted"}
    assert len({row["tx"] for row in rows}) == 1
    forum_event = next(row for row in rows if row["type"].startswith("forum."))
    assert forum_event["stream_id"] == forum.id


@pytest.mark.parametrize(
    ("scope", "kind"), [("forum", "expectation"), ("purpose", "decision_rule")]
)
async def test_bootstrap_consent_is_only_for_a_forums_own_decision_rule(
    client: Client,
    issue: Tokens,
    world: World,
    forum: Forum,
    purpose: Purpose,
    pool: asyncpg.Pool,
    scope: str,
    kind: str,
    consent: Body,
) -> None:
    scope_id = forum.id if scope == "forum" else purpose.id
    body = proposal(scope_id, scope=scope, kind=kind)
    url = await propose(client, await as_leader(issue, world, "ben"), body)
    before = await events(pool)

    r = await adopt(client, url, await as_leader(issue, world, "amina"), consent)

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "bootstrap"
    assert await events(pool) == before


async def test_rescinding_the_forums_only_decision_rule_leaves_it_without_one(
    client: Client,
    issue: Tokens,
    world: World,
    forum: Forum,
    repository: Repository,
    consent: Body,
) -> None:
    as_amina = await as_leader(issue, world, "amina")
    url = await propose(client, as_amina, proposal(forum.id))
    await adopt(client, url, as_amina, consent)

    r = await client.post(
        f"{url}/rescission",
        json={"reason": "We outgrew it", "decision_rule_id": url.rsplit("/", 1)[1]},
        headers=as_amina | {"If-Match": '"2"'},
    )

    assert r.status_code == 200, r.text
    view = await get(client, url, issue)
    assert (view["status"], view["in_force"]) == ("rescinded", False)
    # Rescinded under itself: the rule was in force, at its version then, when it was decided.
    assert view["rescission"]["decision"]["rule_id"] == url.rsplit("/", 1)[1]
    assert view["rescission"]["decision"]["rule_version"] == 2
    assert not (await repository.get(Forum, forum.id)).has_decision_rule
    again = await propose(client, as_amina, proposal(forum.id, title="Start again"))
    assert (await adopt(client, again, as_amina, consent)).status_code == 200


async def test_a_retried_adoption_with_the_same_key_is_replayed_not_repeated(
    client: Client, issue: Tokens, world: World, forum: Forum, pool: asyncpg.Pool, consent: Body
) -> None:
    headers = await as_leader(issue, world, "amina") | {"Idempotency-Key": "adopt-1"}
    url = await propose(client, headers | {"Idempotency-Key": "propose-1"}, proposal(forum.id))
    first = await adopt(client, url, headers, consent)
    before = await events(pool)

    again = await adopt(client, url, headers, consent)

    assert again.status_code == 200, again.text
    assert again.json()["position"] == first.json()["position"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == before


async def test_an_adopted_agreement_cannot_be_adopted_again(
    client: Client, issue: Tokens, world: World, agreement_url: str, ruled: Body
) -> None:
    as_amina = await as_leader(issue, world, "amina")
    await adopt(client, agreement_url, as_amina, ruled)

    r = await adopt(client, agreement_url, as_amina, ruled)

    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == "adopted"


async def test_an_adoption_names_a_meeting_that_exists(
    client: Client, issue: Tokens, world: World, agreement_url: str, pool: asyncpg.Pool
) -> None:
    before = await events(pool)

    r = await client.post(
        f"{agreement_url}/adoption",
        json={"decision_rule_id": str(uuid.uuid4()), "meeting_id": str(uuid.uuid4())},
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "meeting_id"
    assert await events(pool) == before


async def test_a_steward_amends_the_text_with_a_reason(
    client: Client, issue: Tokens, world: World, agreement_url: str
) -> None:
    r = await client.post(
        f"{agreement_url}/amendments",
        json={"text": "Papers five working days ahead", "reason": "Clearer"},
        headers=await as_leader(issue, world, "amina") | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    view = await get(client, agreement_url, issue)
    assert (view["text"], view["amendments"]) == ("Papers five working days ahead", 1)


async def test_an_unchanged_text_is_not_an_amendment(
    client: Client, issue: Tokens, world: World, agreement_url: str, pool: asyncpg.Pool
) -> None:
    before = await events(pool)

    r = await client.post(
        f"{agreement_url}/amendments",
        json={"text": "Papers a week ahead", "reason": "Again"},
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "text"
    assert await events(pool) == before


async def test_a_steward_of_the_purposes_forum_adopts_and_rescinds_a_purpose_agreement(
    client: Client,
    issue: Tokens,
    world: World,
    purpose: Purpose,
    repository: Repository,
    ruled: Body,
) -> None:
    as_amina = await as_leader(issue, world, "amina")
    body = proposal(purpose.id, scope="purpose", kind="constraint")
    url = await propose(client, as_amina, body)
    await adopt(client, url, as_amina, ruled)

    body = {"reason": "Superseded"} | ruled
    r = await client.post(f"{url}/rescission", json=body, headers=as_amina)

    assert r.status_code == 200, r.text
    assert (await get(client, url, issue))["status"] == "rescinded"


async def test_a_proposed_agreement_cannot_be_rescinded(
    client: Client, issue: Tokens, world: World, agreement_url: str, pool: asyncpg.Pool
) -> None:
    before = await events(pool)

    r = await client.post(
        f"{agreement_url}/rescission",
        json={"reason": "Never mind"},
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == "proposed"
    assert await events(pool) == before


async def test_a_rescinded_agreement_cannot_be_amended(
    client: Client, issue: Tokens, world: World, agreement_url: str, ruled: Body
) -> None:
    as_amina = await as_leader(issue, world, "amina")
    await adopt(client, agreement_url, as_amina, ruled)
    gone = {"reason": "Gone"} | ruled
    await client.post(f"{agreement_url}/rescission", json=gone, headers=as_amina)

    r = await client.post(
        f"{agreement_url}/amendments",
        json={"text": "New", "reason": "Why"} | ruled,
        headers=as_amina,
    )

    assert r.status_code == 409, r.text
    assert r.json()["current_state"] == "rescinded"


# Every command on an existing agreement, with a valid body; all are a steward's.
COMMANDS = {
    "adoption": {"decision_rule_id": str(uuid.uuid4())},
    "amendments": {"text": "Papers ten days ahead", "reason": "More time"},
    "rescission": {"reason": "No longer needed"},
}


@pytest.mark.parametrize("step", list(COMMANDS))
@pytest.mark.parametrize(
    ("kind", "who", "rule"),
    [
        ("leader", "ben", "only-stewards-can-{}-agreements"),
        ("leader", None, ""),
        ("auditor", None, "auditors-only-read"),
    ],
    ids=["member", "outsider", "auditor"],
)
async def test_a_command_from_anyone_but_a_steward_is_refused_by_rule_and_writes_nothing(
    client: Client,
    issue: Tokens,
    world: World,
    agreement_url: str,
    pool: asyncpg.Pool,
    step: str,
    kind: str,
    who: str | None,
    rule: str,
) -> None:
    leader_id = (world.id(who) if who else uuid.uuid4()) if kind == "leader" else None
    verb = {"adoption": "adopt", "amendments": "amend", "rescission": "rescind"}[step]
    before = await events(pool)

    r = await client.post(
        f"{agreement_url}/{step}", json=COMMANDS[step], headers=await issue.headers(kind, leader_id)
    )

    # To a leader of no forum of the agreement's, it is an unknown id.
    assert r.status_code == (403 if rule else 404), r.text
    assert r.json().get("rule", "") == rule.format(verb)
    assert await events(pool) == before


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_command_on_an_unknown_agreement_is_not_found(
    client: Client, issue: Tokens, world: World, step: str
) -> None:
    r = await client.post(
        f"/agreements/{uuid.uuid4()}/{step}",
        json=COMMANDS[step],
        headers=await as_leader(issue, world, "amina"),
    )

    assert r.status_code == 404, r.text


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_command_without_a_token_is_unauthorised(
    client: Client, agreement_url: str, step: str
) -> None:
    r = await client.post(f"{agreement_url}/{step}", json=COMMANDS[step])

    assert r.status_code == 401, r.text


@pytest.mark.parametrize("step", list(COMMANDS))
async def test_a_command_for_another_version_fails_its_precondition(
    client: Client, issue: Tokens, world: World, agreement_url: str, pool: asyncpg.Pool, step: str
) -> None:
    headers = await as_leader(issue, world, "amina") | {"If-Match": '"99"'}
    before = await events(pool)

    r = await client.post(f"{agreement_url}/{step}", json=COMMANDS[step], headers=headers)

    assert r.status_code == 412, r.text
    assert r.json()["current_version"] == 1
    assert await events(pool) == before


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("adoption", {"decision_rule": "Because Helen said so"}, "decision_rule"),
        ("adoption", {}, "decision_rule_id"),
        ("adoption", {"decision_rule_id": "consent"}, "decision_rule_id"),
        ("adoption", {"bootstrap": "yes"}, "bootstrap"),
        ("adoption", {"bootstrap": "consent", "consented_by": ["x"]}, "consented_by[0]"),
        ("adoption", {"decision_rule_id": str(uuid.uuid4()), "meeting_id": 3}, "meeting_id"),
        ("amendments", {"text": "x" * 4001, "reason": "Why"}, "text"),
        ("amendments", {"text": "New", "reason": "Why", "title": "New"}, "title"),
        ("rescission", {"reason": "x" * 2001}, "reason"),
        ("rescission", {"reason": ["Why"]}, "reason"),
    ],
)
async def test_an_invalid_command_body_names_the_field_and_writes_nothing(
    client: Client,
    issue: Tokens,
    world: World,
    agreement_url: str,
    pool: asyncpg.Pool,
    step: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = await events(pool)

    r = await client.post(
        f"{agreement_url}/{step}", json=body, headers=await as_leader(issue, world, "amina")
    )

    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert await events(pool) == before
