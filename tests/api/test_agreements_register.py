"""The agreements register through the real app: in force by default, everything on request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.decisions import BOOTSTRAP, RULED
from tracker.domain import Agreement, Forum, Leader, Meeting
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS = datetime(2026, 10, 1, 18, 0, tzinfo=UTC)


async def agreements(world: World) -> tuple[dict[str, Agreement], Meeting, int]:
    """A forum's decision rule adopted at a meeting, a purpose's constraint, and others."""
    assert world.forum is not None and world.purpose is not None
    forum, purpose, amina = world.forum, world.purpose, world.id("amina")
    meeting = Meeting.schedule(uuid.uuid4(), forum.id, "October", STARTS)
    a = {
        "rule": Agreement.propose(
            uuid.uuid4(), "forum", forum.id, "decision_rule", "Consent", "No objections", amina
        ),
        "budget": Agreement.propose(
            uuid.uuid4(), "purpose", purpose.id, "constraint", "Budget", "Within grant", amina
        ),
        "draft": Agreement.propose(
            uuid.uuid4(), "forum", forum.id, "expectation", "Replies", "In a week", amina
        ),
        "old": Agreement.propose(
            uuid.uuid4(), "forum", forum.id, "expectation", "Minutes", "Within 2 days", amina
        ),
    }
    a["rule"].adopt(BOOTSTRAP, meeting.id, forum_has_decision_rule=False)
    forum.adopt_decision_rule(a["rule"].id)
    a["budget"].adopt(RULED)
    a["old"].adopt(RULED)
    a["old"].rescind("replaced by the minutes tool")
    saved = await world.repository.save(forum, meeting, *a.values(), context=SEEDER)
    return a, meeting, saved.events[-1].position


async def another_forum(repository: Repository) -> tuple[Leader, Forum]:
    """A forum of Dan's with an agreement in force of its own."""
    dan = Leader.register(uuid.uuid4(), "Dan")
    forum = Forum.convene(uuid.uuid4(), "Housing board", dan.id)
    rule = Agreement.propose(uuid.uuid4(), "forum", forum.id, "decision_rule", "Vote", "x", dan.id)
    rule.adopt(BOOTSTRAP, forum_has_decision_rule=False)
    await repository.save(dan, forum, rule, context=SEEDER)
    return dan, forum


async def test_the_register_lists_agreements_in_force_with_adoption_and_amendments(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    await another_forum(repository)
    a, meeting, _ = await agreements(world)
    assert world.forum is not None and world.purpose is not None
    amina = await issue.headers("leader", world.id("amina"))
    amended = await client.post(
        f"/agreements/{a['rule'].id}/amendments",
        json={
            "text": "No reasoned objections",
            "reason": "clearer",
            "decision_rule_id": str(a["rule"].id),
        },
        headers=amina,
    )
    assert amended.status_code == 200, amended.text

    at = amended.json()["position"]
    response = await client.get(
        f"/forums/{world.forum.id}/agreements?min_position={at}", headers=amina
    )

    assert response.status_code == 200, response.text
    register = response.json()
    assert register["include"] == "in_force"
    rule, budget = register["agreements"]  # forum scope first, then the purposes'
    assert (rule["agreement_id"], budget["agreement_id"]) == (
        str(a["rule"].id),
        str(a["budget"].id),
    )
    assert (rule["decision_rule"], rule["text"]) == ("bootstrap consent", "No reasoned objections")
    assert [(x["text"], x["reason"]) for x in rule["amendments"]] == [
        ("No reasoned objections", "clearer")
    ]
    assert rule["adopted_meeting"]["meeting_id"] == str(meeting.id)
    assert rule["adopted_meeting"]["title"] == "October"
    assert datetime.fromisoformat(rule["adopted_meeting"]["starts_at"]) == STARTS
    assert (budget["scope"], budget["scope_id"]) == ("purpose", str(world.purpose.id))
    assert budget["purpose_statement"] == "Nobody is cold this winter"
    assert budget["adopted_meeting"] is None and budget["status"] == "adopted"


async def test_include_all_lists_proposed_and_rescinded_agreements_too(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    a, _, at = await agreements(world)
    assert world.forum is not None
    url = f"/forums/{world.forum.id}/agreements?include=all&min_position={at}"

    response = await client.get(url, headers=await issue.headers("auditor"))

    assert response.status_code == 200, response.text
    statuses = {x["agreement_id"]: x["status"] for x in response.json()["agreements"]}
    assert statuses == {
        str(a["rule"].id): "adopted",
        str(a["budget"].id): "adopted",
        str(a["draft"].id): "proposed",
        str(a["old"].id): "rescinded",
    }
    old = next(x for x in response.json()["agreements"] if x["status"] == "rescinded")
    assert old["rescinded_reason"] == "replaced by the minutes tool"
    bad = await client.get(
        f"/forums/{world.forum.id}/agreements?include=some", headers=await issue.headers("auditor")
    )
    assert bad.status_code == 422


async def test_access_follows_forum_membership_and_unknown_forums_are_not_found(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    dan, theirs = await another_forum(repository)
    _, _, at = await agreements(world)
    assert world.forum is not None
    url = f"/forums/{world.forum.id}/agreements?min_position={at}"

    refused = await client.get(url, headers=await issue.headers("leader", dan.id))
    own = await client.get(
        f"/forums/{theirs.id}/agreements?min_position={at}",
        headers=await issue.headers("leader", dan.id),
    )
    missing = await client.get(
        f"/forums/{uuid.uuid4()}/agreements", headers=await issue.headers("auditor")
    )

    assert refused.status_code == 404, refused.text
    assert own.status_code == 200 and len(own.json()["agreements"]) == 1
    assert missing.status_code == 404, missing.text
    assert (await client.get(url)).status_code == 401


async def test_the_register_is_read_a_page_at_a_time_with_the_total(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    await agreements(world)
    assert world.forum is not None
    amina = world.id("amina")
    more = [
        Agreement.propose(uuid.uuid4(), "forum", world.forum.id, "expectation", f"E{n}", "x", amina)
        for n in range(5)
    ]
    for n, agreement in enumerate(more):
        if n % 2:
            agreement.adopt(RULED)
    saved = await repository.save(*more, context=SEEDER)
    url = f"/forums/{world.forum.id}/agreements"
    auditor = await issue.headers("auditor")
    params: dict[str, object] = {"include": "all", "min_position": saved.events[-1].position}
    whole = (await client.get(url, params=params | {"limit": 200}, headers=auditor)).json()
    assert whole["total"] == len(whole["agreements"]) == 9 and whole["next_cursor"] is None
    seen, cursor = [], None
    while True:
        page_params = params | {"limit": 2} | ({} if cursor is None else {"cursor": cursor})
        page = (await client.get(url, params=page_params, headers=auditor)).json()
        assert page["total"] == 9 and len(page["agreements"]) <= 2
        seen += [x["agreement_id"] for x in page["agreements"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [x["agreement_id"] for x in whole["agreements"]]  # none twice, none skipped
    # Never adopted come after the adopted within a kind.
    kinds = [(x["scope"], x["kind"], x["adopted_at"] is None) for x in whole["agreements"]]
    assert kinds == sorted(kinds)
    for bad in ({"cursor": "nope"}, {"limit": 0}, {"limit": 201}):
        refused = await client.get(url, params=params | bad, headers=auditor)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] in bad
