"""Rebuild projections beside the live ones, then switch reads over in one transaction each."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from projections.base import Projection
from projections.bulk import Progress, build
from projections.runner import (
    BATCH,
    DROP_SCHEMA,
    LOCK_BATCH,
    PUBLISH,
    REBUILD,
    ProjectionRunner,
    create_generation,
)
from tracker.eventstore import Checkpoint
from tracker.eventstore.log import count_after, has_events

TRY_REBUILD = "SELECT pg_try_advisory_lock($1, hashtext($2))"
UNLOCK_REBUILD = "SELECT pg_advisory_unlock($1, hashtext($2))"
BUILDING = "SELECT generation FROM projection_generations WHERE name = $1 AND state = 'building'"
NEXT_GENERATION = (
    "SELECT coalesce(max(generation), 0) + 1 FROM projection_generations WHERE name = $1"
)
LIVE_GENERATION = "SELECT live_generation FROM projections WHERE name = $1"
# A projection's first build has no row here until it is switched in.
SWITCH = """
INSERT INTO projections (name, live_generation) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET live_generation = EXCLUDED.live_generation
"""
LOCK_REBUILD = "SELECT pg_advisory_lock($1, hashtext($2))"
MARK_LIVE = "UPDATE projection_generations SET state = 'live' WHERE name = $1 AND generation = $2"
FORGET = "DELETE FROM projection_generations WHERE name = $1 AND generation = $2"
VACUUM_TABLES = """
SELECT format('VACUUM (ANALYZE) %I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = $1
"""
EMPTY = """
SELECT transaction_id = '0'::xid8 AND position = 0 AND state = 'building'
FROM projection_generations WHERE name = $1 AND generation = $2
"""
CHECKPOINT = """
SELECT transaction_id, position FROM projection_generations WHERE name = $1 AND generation = $2
"""


log = logging.getLogger(__name__)


class RebuildRunning(Exception):
    """Another process is already rebuilding this projection."""


async def rebuild(
    runner: ProjectionRunner, projection: Projection, progress: Progress | None = None
) -> int:
    """Rebuild one projection (see rebuild_many); return its new generation."""
    return (await rebuild_many(runner, [projection], progress))[projection.name]


async def rebuild_many(
    runner: ProjectionRunner, projections: Sequence[Projection], progress: Progress | None = None
) -> dict[str, int]:
    """Build a new generation of each projection beside the live one, then make each the live
    one atomically and drop the old tables; return the new generation by projection name.

    Empty generations are built in memory from one read of the log shared by all of them
    (projections/bulk.py); anything else, and whatever arrived meanwhile, is replayed batch by
    batch from its checkpoint, so an interrupted rebuild resumes where it stopped.
    """
    await runner.ensure()
    async with _locked(runner.store.pool, projections, wait=False):
        return await _build(runner, projections, progress)


async def build_new(runner: ProjectionRunner, progress: Progress | None = None) -> list[str]:
    """Build each of the runner's projections that has never run, from the whole log, before
    anyone reads it: an upgrade that brings a new projection version never serves it empty or
    partial. Return the projections built here.

    On an empty log there is nothing to build, and ensure() publishes them as they are. Several
    processes may start at once: each waits for the others' builds, and builds what is left.
    """
    pool = runner.store.pool
    new = [p for p in runner.projections if await pool.fetchval(LIVE_GENERATION, p.name) is None]
    if not new or not await has_events(pool):
        return []
    async with _locked(pool, new, wait=True):
        # Another process may have built some while this one waited for the locks.
        new = [p for p in new if await pool.fetchval(LIVE_GENERATION, p.name) is None]
        if new:
            names = ", ".join(p.name for p in new)
            log.info("building %s from the whole log before publishing", names)
        return list(await _build(runner, new, progress))


@asynccontextmanager
async def _locked(
    pool: asyncpg.Pool, projections: Sequence[Projection], wait: bool
) -> AsyncIterator[None]:
    """Hold each projection's rebuild lock: wait for it, or refuse with RebuildRunning."""
    async with pool.acquire() as guard:
        locked: list[str] = []
        try:
            for projection in sorted(projections, key=lambda p: p.name):  # one lock order
                if wait:
                    await guard.fetchval(LOCK_REBUILD, REBUILD, projection.name)
                elif not await guard.fetchval(TRY_REBUILD, REBUILD, projection.name):
                    raise RebuildRunning(projection.name)
                locked.append(projection.name)
            yield
        finally:
            for name in locked:
                await guard.fetchval(UNLOCK_REBUILD, REBUILD, name)


async def _build(
    runner: ProjectionRunner, projections: Sequence[Projection], progress: Progress | None
) -> dict[str, int]:
    """Build the next generation of each (in bulk while empty, then batch by batch from its
    checkpoint) and switch reads over to it; the new generation by projection name."""
    pool = runner.store.pool
    targets = [(p, await _target(pool, p)) for p in projections]
    fresh = [(p, g) for p, g in targets if await _is_empty(pool, p, g)]
    # Bulk builds vacuum each table as they finish it; replayed ones are vacuumed at the end.
    bulk = set(await build(runner.connect, fresh, progress)) if fresh else set()
    for projection, generation in targets:
        await _replay(runner, projection, generation, progress)
    await asyncio.gather(*(_finish(runner, p, g, p.name not in bulk) for p, g in targets))
    return {p.name: g for p, g in targets}


async def _is_empty(pool: asyncpg.Pool, projection: Projection, generation: int) -> bool:
    """Whether the generation has applied nothing yet, so it may be built in bulk."""
    return bool(await pool.fetchval(EMPTY, projection.name, generation))


async def _replay(
    runner: ProjectionRunner, projection: Projection, generation: int, progress: Progress | None
) -> None:
    """Apply the log from the generation's checkpoint batch by batch, as the live path does."""
    pool = runner.store.pool
    total = await count_after(pool, await _checkpoint(pool, projection, generation))
    started, done = time.monotonic(), 0
    while True:
        applied = await runner.step(projection, generation)
        done += applied
        if progress is not None and (done or total):
            progress(done, max(total, done), time.monotonic() - started)
        if applied < runner.batch_size:
            break


async def _checkpoint(pool: asyncpg.Pool, projection: Projection, generation: int) -> Checkpoint:
    """Where the generation has applied the log up to."""
    row = await pool.fetchrow(CHECKPOINT, projection.name, generation)
    return Checkpoint() if row is None else Checkpoint(row[0], row[1])


async def _finish(
    runner: ProjectionRunner, projection: Projection, generation: int, settle: bool
) -> None:
    """Vacuum and analyse (if settle), switch reads over, drop the old generation."""
    pool = runner.store.pool
    if settle:
        await _settle(pool, projection.schema(generation))
    old = await _switch(runner, projection, generation)
    if old is not None:
        await pool.execute(await pool.fetchval(DROP_SCHEMA, projection.schema(old)))
        await pool.execute(FORGET, projection.name, old)


async def _settle(pool: asyncpg.Pool, schema: str) -> None:
    """Vacuum and analyse replayed tables before they serve reads: a GIN index filled row by
    row scans its whole pending list until vacuumed (11 ms against 1 ms measured here), and
    the planner needs statistics."""
    # Side by side: each table's vacuum works on its own files.
    statements = await pool.fetch(VACUUM_TABLES, schema)
    await asyncio.gather(*(pool.execute(statement) for (statement,) in statements))


async def _target(pool: asyncpg.Pool, projection: Projection) -> int:
    """The generation being built: an interrupted rebuild's, or a fresh one."""
    async with pool.acquire() as conn, conn.transaction():
        building = await conn.fetchval(BUILDING, projection.name)
        if building is not None:
            return int(building)
        generation = int(await conn.fetchval(NEXT_GENERATION, projection.name))
        await create_generation(conn, projection, generation, "building")
        return generation


async def _switch(runner: ProjectionRunner, projection: Projection, generation: int) -> int | None:
    """Catch up the last events and switch reads over, with live batches held off meanwhile."""
    async with runner.store.pool.acquire() as conn, conn.transaction():
        # The live runner takes this lock per batch: while we hold it nothing else is applied.
        await conn.execute(LOCK_BATCH, BATCH, projection.name)
        while await runner.step_in(conn, projection, generation) > 0:
            pass
        old = await conn.fetchval(LIVE_GENERATION, projection.name)
        await conn.execute(SWITCH, projection.name, generation)
        await conn.execute(MARK_LIVE, projection.name, generation)
        await conn.execute(PUBLISH, projection.schema(generation), list(projection.tables))
        return None if old is None or old == generation else int(old)
