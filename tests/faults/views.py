"""What the fault tests check the views with: the log's progress through them, and a writer."""

from __future__ import annotations

import asyncpg

from tests.projections.history import History
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

BEHIND = """
SELECT count(*) FROM events e, projections p JOIN projection_generations g
  ON g.name = p.name AND g.generation = p.live_generation
WHERE (e.transaction_id, e.position) > (g.transaction_id, g.position)
"""
APPLIED = """
SELECT g.name, g.events_applied FROM projections p JOIN projection_generations g
  ON g.name = p.name AND g.generation = p.live_generation
ORDER BY g.name
"""
HOLDER = "SELECT holder FROM projection_leases WHERE name = $1"


class Writer:
    """Appends random but valid histories of the real domain."""

    def __init__(self, pool: asyncpg.Pool, seed: int) -> None:
        self.history = History(seed=seed)
        self.repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))

    async def write(self, steps: int) -> None:
        for _ in range(steps):
            self.history.step()
        await self.history.flush(self.repository)


async def caught_up(pool: asyncpg.Pool) -> bool:
    """Whether every live view has applied every committed event."""
    return int(await pool.fetchval(BEHIND)) == 0


async def applied_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """Events applied by each live view, counted batch by batch as they committed."""
    return {r["name"]: r["events_applied"] for r in await pool.fetch(APPLIED)}


async def holder(pool: asyncpg.Pool, name: str) -> str | None:
    """Who holds a projection's lease (live or not)."""
    value: str | None = await pool.fetchval(HOLDER, name)
    return value


def pid_of(holder_name: str | None) -> int | None:
    """The process id in a lease holder's name (host:pid:random)."""
    return None if holder_name is None else int(holder_name.split(":")[-2])


async def leader_pids(pool: asyncpg.Pool, names: list[str]) -> set[int | None]:
    """The processes holding the projections' leases, by process id."""
    return {pid_of(await holder(pool, name)) for name in names}
