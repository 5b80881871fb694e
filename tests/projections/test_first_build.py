"""A projection seen for the first time on a log that already holds events is built from the
whole log before it is published: no reader ever sees it empty or partial."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from projections.base import Projection
from projections.commitment_view import CommitmentViews
from projections.rebuild import LIVE_GENERATION, _target, build_new
from projections.runner import LIVE, ProjectionRunner
from projections.status import statuses
from tests.projections.test_bulk import generate, tables_of
from tracker.eventstore import EventStore
from tracker.eventstore.log import newest
from tracker.eventstore.repository import Repository


class NewViews(CommitmentViews):
    """The commitment views under a name no process has run yet, unpublished, so the service's
    own runner (in API tests of the same session) never touches them."""

    name = "new_commitment_views_v8"
    tables = ()


class LiveViews(CommitmentViews):
    """The same views again, filled by the live path from an empty generation."""

    name = "live_commitment_views_v8"
    tables = ()


def runner_for(store: EventStore, url: str, projection: Projection) -> ProjectionRunner:
    return ProjectionRunner(store, [projection], lambda: asyncpg.connect(url))


async def at_head(pool: asyncpg.Pool, name: str) -> bool:
    """Whether the projection's live generation has applied the whole log."""
    live, head = await pool.fetchrow(LIVE, name), await newest(pool)
    return (
        live is not None
        and head is not None
        and (live[1], live[2]) == (head.transaction_id, head.position)
    )


async def test_a_new_projection_is_published_only_once_built_from_the_whole_log(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=11, steps=1500)
    runner = runner_for(store, database_url, NewViews())
    during: list[asyncio.Future[Any]] = []

    def progress(done: int, total: int, elapsed: float) -> None:
        if not during:  # look from outside while the build is under way
            during.append(asyncio.ensure_future(pool.fetchval(LIVE_GENERATION, NewViews.name)))

    assert await build_new(runner, progress) == [NewViews.name]
    assert during and await during[0] is None
    assert await at_head(pool, NewViews.name)
    # The same log through the live path, batch by batch, from a generation published empty.
    live = runner_for(store, database_url, LiveViews())
    await live.run_until_caught_up()
    new_rows = await tables_of(pool, NewViews().schema(1))
    assert len(new_rows["commitments"]) > 20
    assert new_rows == await tables_of(pool, LiveViews().schema(1))
    assert await build_new(runner) == []  # nothing new any more


async def test_processes_starting_together_build_a_new_projection_once(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=12, steps=800)
    first, second = (runner_for(store, database_url, NewViews()) for _ in range(2))
    built = await asyncio.gather(build_new(first), build_new(second))
    assert sorted(built) == [[], [NewViews.name]]
    generations = await pool.fetchval(
        "SELECT count(*) FROM projection_generations WHERE name = $1", NewViews.name
    )
    assert generations == 1 and await at_head(pool, NewViews.name)


async def test_an_interrupted_first_build_stays_unpublished_until_it_is_resumed(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=13, steps=800)
    runner = runner_for(store, database_url, NewViews())
    await _target(pool, NewViews())  # what a first build leaves when stopped before its end
    await runner.ensure()  # as a process that does not build first would
    assert await pool.fetchval(LIVE_GENERATION, NewViews.name) is None
    [status] = [s for s in await statuses(pool) if s.name == NewViews.name]
    assert (status.state, status.live, status.generation) == ("rebuild interrupted", False, 1)
    assert await build_new(runner) == [NewViews.name]
    assert await at_head(pool, NewViews.name)
    [status] = [s for s in await statuses(pool) if s.name == NewViews.name]
    assert status.live and status.lag_events == 0


async def test_on_an_empty_log_a_new_projection_is_published_at_once(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    runner = runner_for(store, database_url, NewViews())
    assert await build_new(runner) == []
    await runner.ensure()
    assert await pool.fetchval(LIVE_GENERATION, NewViews.name) == 1
