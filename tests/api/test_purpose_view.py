"""The purpose view through the real app, read at the position of the last write."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from projections.consistency import wait_until
from projections.queries.paging import PAGE
from projections.queries.purpose_view import READS, computed
from projections.queries.purpose_view_structs import PurposeView
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.clock import Clock
from tests.decisions import BOOTSTRAP, RULED
from tracker import tokens
from tracker.domain import Agreement, Commitment, Forum, Leader, Purpose
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
OCT_1, NOV_1, DEC_1 = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
NOV_26 = date(2026, 11, 26)


def commitment(world: World, owner: str, by: str | None = None, **terms: Any) -> Commitment:
    """A commitment citing the world's purpose, made by the owner unless someone else records it."""
    assert world.forum is not None and world.purpose is not None
    return Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=world.id(owner),
        by=world.id(by or owner),
        description=f"{owner}'s part",
        purpose_ids=[world.purpose.id],
        made_on=OCT_1,
        **terms,
    )


async def history(
    world: World, clock: Clock
) -> tuple[dict[str, Commitment], dict[str, Agreement], int]:
    """Commitments in every kind of state, made a minute apart, and agreements in and out of
    force."""
    assert world.forum is not None and world.purpose is not None
    amina, ben = world.id("amina"), world.id("ben")
    world.purpose.revise(amina, "Nobody is cold or alone this winter", "loneliness matters too")
    made: dict[str, tuple[str, dict[str, Any]]] = {
        "late": ("ben", {"due_on": NOV_1}),
        "going": ("chloe", {"due_on": DEC_1}),
        "done": ("ben", {}),
        "asked": ("chloe", {"by": "amina"}),
        "let_go": ("chloe", {}),
    }
    c = {}
    for name, (owner, terms) in made.items():
        clock.advance(minutes=1)
        c[name] = commitment(world, owner, **terms)
    c["late"].report_progress(ben, 40)
    c["going"].report_progress(world.id("chloe"), 80)
    c["done"].complete(ben)
    c["let_go"].release(world.id("chloe"), "the venue closed")
    a = {
        "rule": Agreement.propose(
            uuid.uuid4(), "forum", world.forum.id, "decision_rule", "Consent", "By consent", amina
        ),
        "scoped": Agreement.propose(
            uuid.uuid4(), "purpose", world.purpose.id, "expectation", "Report", "Monthly", ben
        ),
        "pending": Agreement.propose(
            uuid.uuid4(), "purpose", world.purpose.id, "constraint", "Budget", "Within", ben
        ),
    }
    a["rule"].adopt(BOOTSTRAP, forum_has_decision_rule=False)
    a["scoped"].adopt(RULED)
    saved = await world.repository.save(world.purpose, *c.values(), *a.values(), context=SEEDER)
    return c, a, saved.events[-1].position


async def elsewhere(repository: Repository, world: World) -> tuple[Leader, int]:
    """Another forum with its own purpose, commitment and agreement, and a leader of its own."""
    dan = Leader.register(uuid.uuid4(), "Dan", "dan@example.org")
    forum = Forum.convene(uuid.uuid4(), "Housing board", dan.id)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Homes", dan.id)
    other = Commitment.make(
        uuid.uuid4(),
        forum_id=forum.id,
        owner_id=dan.id,
        by=dan.id,
        description="Survey",
        purpose_ids=[purpose.id],
        made_on=OCT_1,
    )
    rule = Agreement.propose(uuid.uuid4(), "forum", forum.id, "decision_rule", "Vote", "x", dan.id)
    rule.adopt(BOOTSTRAP, forum_has_decision_rule=False)
    saved = await repository.save(dan, forum, purpose, other, rule, context=SEEDER)
    return dan, saved.events[-1].position


async def test_the_purpose_view_gathers_revisions_endorsements_commitments_and_agreements(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world = await seed_world(repository)
    await elsewhere(repository, world)
    c, a, _ = await history(world, clock)
    assert world.purpose is not None
    ben = await issue.headers("leader", world.id("ben"))
    endorsed = await client.post(f"/purposes/{world.purpose.id}/endorsements", headers=ben)
    assert endorsed.status_code == 200, endorsed.text

    at = endorsed.json()["position"]
    response = await client.get(f"/purposes/{world.purpose.id}/view?min_position={at}", headers=ben)

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["statement"] == "Nobody is cold or alone this winter"
    assert view["original_statement"] == "Nobody is cold this winter"
    assert [(r["reason"], r["by"]) for r in view["revisions"]] == [
        ("loneliness matters too", str(world.id("amina")))
    ]
    [endorsement] = view["endorsements"]
    assert endorsement["leader_id"] == str(world.id("ben"))
    assert endorsement["affiliation"] == {
        "organisation_id": str(world.organisations["ben"].id),
        "organisation_name": "Ben Council",
        "title": "Director",
    }
    assert view["status_counts"] == [
        {"status": "proposed", "count": 1},
        {"status": "active", "count": 2},
        {"status": "completed", "count": 1},
        {"status": "released", "count": 1},
    ]
    page = view["commitments"]
    assert page["next_cursor"] is None
    # Oldest first: the order they were made in.
    assert [x["commitment_id"] for x in page["items"]] == [str(x.id) for x in c.values()]
    statuses = {x["commitment_id"]: x["status"] for x in page["items"]}
    assert statuses[str(c["asked"].id)] == "proposed" and statuses[str(c["done"].id)] == "completed"
    overdue = [x["commitment_id"] for x in page["items"] if x["overdue"]]
    assert overdue == [str(c["late"].id)]
    assert view["progress"] == {
        "total": 5,
        "open": 3,
        "finished": 2,
        "completed": 1,
        "released": 1,
        "overdue": 1,
        "reporting": 2,
        "mean_progress": 60.0,
    }
    # Amina only recorded a request: she promised nothing, and Chloe has not accepted it yet;
    # what Chloe released is no longer pursued, so not a contribution.
    orgs = {n: str(world.organisations[n].id) for n in ("ben", "chloe")}
    assert {
        x["leader_id"]: (x["organisation_ids"], x["commitments"]) for x in view["contributors"]
    } == {
        str(world.id("ben")): ([orgs["ben"]], 2),
        str(world.id("chloe")): ([orgs["chloe"]], 1),
    }
    assert {x["organisation_id"]: x["commitments"] for x in view["organisations"]} == {
        orgs["ben"]: 2,
        orgs["chloe"]: 1,
    }
    assert view["no_longer_pursued"] == {
        "commitments": 1,
        "leaders": [
            {
                "leader_id": str(world.id("chloe")),
                "organisation_ids": [orgs["chloe"]],
                "commitments": 1,
                "leader_name": "Chloe",
                "organisation_names": ["Chloe Council"],
            }
        ],
        "organisations": [
            {
                "organisation_id": orgs["chloe"],
                "leader_ids": [str(world.id("chloe"))],
                "commitments": 1,
                "organisation_name": "Chloe Council",
                "leader_names": ["Chloe"],
            }
        ],
    }
    assert {x["agreement_id"] for x in view["agreements_in_force"]} == {
        str(a["rule"].id),
        str(a["scoped"].id),
    }
    latest = max(x["updated_at"] for x in page["items"])
    assert view["last_activity"] >= latest
    # The document has the shape the OpenAPI document gives it.
    msgspec.json.decode(response.content, type=PurposeView)


async def test_withdrawing_an_endorsement_is_visible_at_once(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    assert world.purpose is not None
    url = f"/purposes/{world.purpose.id}"
    chloe = await issue.headers("leader", world.id("chloe"))
    assert (await client.post(f"{url}/endorsements", headers=chloe)).status_code == 200
    withdrawn = await client.post(f"{url}/endorsement-withdrawals", headers=chloe)

    view = await client.get(
        f"{url}/view?min_position={withdrawn.json()['position']}", headers=chloe
    )

    assert view.status_code == 200, view.text
    assert view.json()["endorsements"] == []
    assert view.json()["status_counts"] == [] and view.json()["commitments"] == {
        "items": [],
        "next_cursor": None,
    }
    assert view.json()["progress"]["mean_progress"] is None


async def test_only_members_auditors_admins_and_integrations_see_it(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world = await seed_world(repository)
    dan, at = await elsewhere(repository, world)
    assert world.forum is not None and world.purpose is not None
    url = f"/purposes/{world.purpose.id}/view?min_position={at}"
    scoped = await tokens.issue(pool, "minutes", "integration", forum_ids=[world.forum.id])
    for headers in [
        await issue.headers("leader", world.id("chloe")),
        await issue.headers("auditor"),
        await issue.headers("admin"),
        {"Authorization": f"Bearer {scoped}"},
    ]:
        assert (await client.get(url, headers=headers)).status_code == 200

    refused = await client.get(url, headers=await issue.headers("leader", dan.id))

    # Another forum's purpose is, to an outsider, an id that does not exist.
    assert refused.status_code == 404, refused.text
    assert refused.json()["detail"] == f"purpose {world.purpose.id} not found"


async def test_an_integration_limited_to_other_forums_is_refused(
    client: Client, repository: Repository, pool: asyncpg.Pool
) -> None:
    world = await seed_world(repository)
    assert world.purpose is not None
    token = await tokens.issue(pool, "housing", "integration", forum_ids=[uuid.uuid4()])
    at = await pool.fetchval("SELECT max(position) FROM events")

    refused = await client.get(
        f"/purposes/{world.purpose.id}/view?min_position={at}",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert refused.status_code == 404


async def test_an_unknown_purpose_is_not_found_and_a_missing_token_is_unauthorized(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    assert world.purpose is not None
    missing = await client.get(
        f"/purposes/{uuid.uuid4()}/view", headers=await issue.headers("auditor")
    )
    assert missing.status_code == 404 and missing.json()["type"].endswith("/not-found")
    assert (await client.get(f"/purposes/{world.purpose.id}/view")).status_code == 401


async def test_the_commitments_come_a_page_at_a_time_with_the_rest_of_the_view_on_each(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world = await seed_world(repository)
    assert world.purpose is not None
    made = []
    for _ in range(7):
        clock.advance(minutes=1)
        made.append(commitment(world, "ben", due_on=NOV_1))
    saved = await repository.save(*made, context=SEEDER)
    at = saved.events[-1].position
    headers = await issue.headers("leader", world.id("chloe"))
    url = f"/purposes/{world.purpose.id}/view"

    seen: list[str] = []
    views: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"min_position": at, "limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        view = response.json()
        assert len(view["commitments"]["items"]) <= 3
        seen += [x["commitment_id"] for x in view["commitments"]["items"]]
        views.append(view)
        cursor = view["commitments"]["next_cursor"]
        if cursor is None:
            break

    assert seen == [str(x.id) for x in made]  # in order, no gaps, no repeats
    assert [len(v["commitments"]["items"]) for v in views] == [3, 3, 1]
    # Everything but the page is the same on every page, and counts every commitment.
    heads = [{k: v for k, v in view.items() if k != "commitments"} for view in views]
    assert heads[0] == heads[1] == heads[2]
    assert heads[0]["progress"]["total"] == 7 and heads[0]["progress"]["overdue"] == 7
    assert (await client.get(url, params={"limit": 7}, headers=headers)).json()["commitments"][
        "next_cursor"
    ] is None


async def test_a_bad_cursor_or_limit_is_refused(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    assert world.purpose is not None
    url = f"/purposes/{world.purpose.id}/view"
    headers = await issue.headers("auditor")
    for params in ({"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 201}):
        refused = await client.get(url, params=params, headers=headers)
        assert refused.status_code == 422, (params, refused.text)


async def test_the_view_holds_until_the_forums_midnight_when_overdue_is_judged_again(
    client: Client, repository: Repository, pool: asyncpg.Pool
) -> None:
    """What serving the view again rests on: the same answer up to changes_at, the forum's next
    midnight (London, GMT in November), where a commitment due that day turns overdue."""
    world = await seed_world(repository)
    assert world.purpose is not None
    saved = await repository.save(commitment(world, "ben", due_on=NOV_26), context=SEEDER)
    assert await wait_until(pool, saved.events[-1].position, READS)
    moment = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    fresh = await computed(pool, world.purpose.id, moment, None, None, PAGE)
    assert fresh is not None and fresh.changes_at == datetime(2026, 11, 27, tzinfo=UTC)
    just_before = fresh.changes_at - timedelta(microseconds=1)
    assert await computed(pool, world.purpose.id, just_before, None, None, PAGE) == fresh
    turned = await computed(pool, world.purpose.id, fresh.changes_at, None, None, PAGE)
    assert turned is not None and turned.changes_at == datetime(2026, 11, 28, tzinfo=UTC)
    overdue = [msgspec.json.decode(f.value.body)["progress"]["overdue"] for f in (fresh, turned)]
    assert overdue == [0, 1]
