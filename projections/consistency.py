"""Read-your-writes: wait, bounded, until projections have applied a given event."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from tracker.eventstore.log import checkpoint_at

# The oldest live checkpoint among the named projections.
CHECKPOINTS = """
SELECT g.transaction_id, g.position FROM projections p
JOIN projection_generations g ON g.name = p.name AND g.generation = p.live_generation
WHERE p.name = ANY($1::text[])
"""


async def place(pool: asyncpg.Pool, position: int) -> tuple[int, int] | None:
    """The event's (transaction_id, position) in the log, or None if no event has it. A command
    answers only once its events are committed, so a position it returned always has one."""
    at = await checkpoint_at(pool, position)
    return None if at is None else (at.transaction_id, at.position)


async def applied(pool: asyncpg.Pool, at: tuple[int, int], names: Sequence[str]) -> bool:
    """Whether every named projection has applied the event at this place in the log."""
    rows = await pool.fetch(CHECKPOINTS, list(names))
    if len(rows) < len(names):
        return False
    # Checkpoints compare as (transaction_id, position) pairs, never by position alone.
    return all((r[0], r[1]) >= at for r in rows)


async def reached(pool: asyncpg.Pool, position: int, names: Sequence[str]) -> bool:
    """Whether every named projection has applied the event at this global position."""
    at = await place(pool, position)
    return at is not None and await applied(pool, at, names)


async def wait_until(
    pool: asyncpg.Pool, position: int, names: Sequence[str], seconds: float = 2.0
) -> bool:
    """Poll until the projections reach position, or give up after some seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if await reached(pool, position, names):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.01)
