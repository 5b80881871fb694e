"""The directory lists and GET /me as of a past cut: equal to what the live lists answered at
that cut, and never showing a caller what it may not see now."""

from __future__ import annotations

import random
import uuid
from typing import Any
from uuid import UUID

import asyncpg

from projections.directory_view import DirectoryView
from projections.queries.directory import list_forums, list_leaders, list_organisations
from projections.queries.directory_now import forums_now, seen_now
from projections.queries.directory_structs import ForumFilters, LeaderFilters, OrganisationFilters
from projections.queries.me import me
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.audit.test_history import settled
from tests.projections.test_directory_view import DirectoryHistory
from tracker.application.directory import Sight, sight
from tracker.application.principal import INTEGRATION, LEADER, Principal
from tracker.audit.past_views import views_as_of
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository

NOW = "SELECT clock_timestamp()"
ALL = Sight(all_emails=True)


def leader(leader_id: UUID) -> Principal:
    return Principal(kind=LEADER, token_id=leader_id, name="x", leader_id=leader_id)


async def answers(db: asyncpg.Pool, history: DirectoryHistory, leaders: list[UUID]) -> Any:
    """Every directory list, as an auditor sees it, and GET /me of some leaders, on db."""
    out: dict[str, Any] = {
        "organisations": await list_organisations(db, OrganisationFilters(), None, 1000),
        "leaders": await list_leaders(db, LeaderFilters(), ALL, None, 1000),
        "forums": await list_forums(db, ForumFilters(), ALL, None, 1000),
    }
    for forum in history.forums:
        members = LeaderFilters(forum_id=forum.id)
        out[f"members {forum.id}"] = await list_leaders(db, members, ALL, None, 1000)
    for leader_id in leaders:
        out[f"me {leader_id}"] = await me(db, leader(leader_id), None)
    return out


async def test_the_directory_as_of_equals_the_live_lists_at_random_cuts(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    rng = random.Random(1207)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url), 37)
    history = DirectoryHistory(seed=1207)
    leaders = [x.id for x in rng.sample(history.leaders, 6)]
    captures: list[tuple[str, Any]] = []
    for _ in range(12):
        for _ in range(rng.randint(20, 300)):
            history.step()
        await history.flush(repository)
        await settled(pool)
        await runner.run_until_caught_up()
        if rng.random() < 0.5:
            as_of = (await pool.fetchval(NOW)).isoformat()
        else:
            as_of = str(await pool.fetchval("SELECT max(position) FROM events"))
        captures.append((as_of, await answers(pool, history, leaders)))
    for _ in range(200):
        history.step()
    await history.flush(repository)
    await settled(pool)
    await runner.run_until_caught_up()

    assert {a.isdigit() for a, _ in captures} == {True, False}, "positions and timestamps"
    assert len({str(then) for _, then in captures}) == len(captures), "every cut differs"
    for as_of, then in captures:
        async with views_as_of(pool, as_of) as views:
            past = await answers(views.pool, history, leaders)
        assert past == then, as_of


async def test_the_directory_as_of_the_newest_event_equals_the_live_lists_for_every_caller(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    history = DirectoryHistory(seed=12)
    for _ in range(1500):
        history.step()
    await history.flush(repository)
    await settled(pool)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url), 41)
    await runner.run_until_caught_up()
    callers = [leader(x.id) for x in history.leaders]
    forums = tuple(f.id for f in history.forums[:2])
    callers.append(Principal(kind=INTEGRATION, token_id=uuid.uuid4(), name="i", forum_ids=forums))
    newest = await pool.fetchval("SELECT max(position) FROM events")
    emails = 0
    for caller in callers:
        live = await _seen_by(pool, caller, sight(caller), None)
        now = await seen_now(pool, sight(caller))
        mine = None if caller.leader_id is None else await forums_now(pool, caller.leader_id)
        async with views_as_of(pool, newest) as views:
            past = await _seen_by(views.pool, caller, now, mine)
        assert past == live, caller
        emails += sum(1 for item in live[0].items if item.email is not None)
    # Stewards see some members' emails, members none but their own: both are exercised.
    assert emails > len(history.leaders)
    # Every table's past view equals the live table, row for row.
    for table in DirectoryView.tables:
        sql = f"SELECT t::text FROM {table} t ORDER BY 1"
        async with views_as_of(pool, newest) as views:
            past_rows = [r[0] for r in await views.pool.fetch(sql)]
        assert past_rows == [r[0] for r in await pool.fetch(sql)], table


async def test_no_caller_sees_as_of_a_past_cut_what_it_may_not_see_now(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    history = DirectoryHistory(seed=99)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    cuts, thens = [], []
    for _ in range(6):
        for _ in range(250):
            history.step()
        await history.flush(repository)
        await settled(pool)
        await runner.run_until_caught_up()
        cuts.append(await pool.fetchval("SELECT max(position) FROM events"))
        thens.append({x.id: await _ids(pool, leader(x.id), None) for x in history.leaders})
    hidden = 0
    for x in history.leaders:
        caller = leader(x.id)
        now = await _ids(pool, caller, None)
        seen, mine = await seen_now(pool, sight(caller)), await forums_now(pool, x.id)
        for cut, then in zip(cuts, thens, strict=True):
            async with views_as_of(pool, cut) as views:
                past = await _ids(views.pool, caller, (seen, mine))
            assert all(p <= n for p, n in zip(past, now, strict=True)), (x.id, cut)
            # What the caller saw then but may not see now is what the limit hides.
            hidden += sum(len(t - n) for t, n in zip(then[x.id], now, strict=True))
    assert hidden > 0, "some callers left forums, so the limit is exercised"


async def _seen_by(
    db: asyncpg.Pool, caller: Principal, seen: Sight, mine: tuple[UUID, ...] | None
) -> tuple[Any, Any, Any]:
    """The leader and forum lists and GET /me, as one caller sees them."""
    leaders = await list_leaders(db, LeaderFilters(), seen, None, 1000)
    forums = await list_forums(db, ForumFilters(), seen, None, 1000)
    return leaders, forums, await me(db, caller, None, mine)


async def _ids(
    db: asyncpg.Pool, caller: Principal, past: tuple[Sight, tuple[UUID, ...]] | None
) -> tuple[set[UUID], set[UUID], set[UUID]]:
    """The leaders, forums and GET /me's forums a caller is shown: live, or with past's limits."""
    seen, mine = (sight(caller), None) if past is None else past
    leaders, forums, found = await _seen_by(db, caller, seen, mine)
    assert found.leader is not None
    return (
        {i.leader_id for i in leaders.items},
        {i.forum_id for i in forums.items},
        {f.forum_id for f in found.leader.forums},
    )
