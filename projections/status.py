"""How each projection is doing: where it is, how far behind, and whether it is running."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg
import msgspec

from projections.runner import LEAD, REBUILD
from tracker.eventstore import Checkpoint
from tracker.eventstore.log import lag

STATUS = """
SELECT g.name, g.generation, p.live_generation, g.transaction_id, g.position, g.events_applied,
       g.state, g.error, g.failed_position, g.updated_at,
       CASE WHEN g.updated_at > now() - interval '10 seconds' THEN g.events_per_second ELSE 0 END
           AS rate,
       EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = $1 AND l.objid = (hashtext(g.name)::bigint & 4294967295)::oid)
           AS leading,
       EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = $2 AND l.objid = (hashtext(g.name)::bigint & 4294967295)::oid)
           AS rebuilding
FROM projection_generations g LEFT JOIN projections p ON p.name = g.name
ORDER BY g.name, g.generation
"""


class ProjectionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One generation of one projection."""

    name: str
    generation: int
    live: bool
    state: str
    checkpoint: str
    events_applied: int
    lag_events: int
    lag_seconds: float
    events_per_second: float
    error: str | None
    failed_position: int | None
    updated_at: datetime


async def statuses(
    pool: asyncpg.Pool, running: Collection[str] | None = None
) -> list[ProjectionStatus]:
    """Every projection generation with its lag and state (running, rebuilding, failed...).

    A name not in running (the projections this release runs, if given) shows as retired: an
    upgrade left it behind, and its lag only grows until it is dropped.
    """
    now = await pool.fetchval("SELECT now()")
    rows = await pool.fetch(STATUS, LEAD, REBUILD)
    lags = await lag(pool, [Checkpoint(r["transaction_id"], r["position"]) for r in rows])
    return [
        _status(r, count, _seconds(now, oldest), running)
        for r, (count, oldest) in zip(rows, lags, strict=True)
    ]


def _seconds(now: datetime, oldest: datetime | None) -> float:
    return 0.0 if oldest is None else round((now - oldest).total_seconds(), 3)


def _status(
    r: asyncpg.Record, lag_events: int, lag_seconds: float, running: Collection[str] | None
) -> ProjectionStatus:
    """One row of STATUS, its lag, and the state to show."""
    name, generation, live_generation = r["name"], r["generation"], r["live_generation"]
    if running is not None and name not in running:
        shown = "retired"
    elif r["state"] == "failed":
        shown = "failed"
    elif generation != live_generation:
        shown = "rebuilding" if r["rebuilding"] else "rebuild interrupted"
    else:
        shown = "running" if r["leading"] else "stopped"
    return ProjectionStatus(
        name=name,
        generation=generation,
        live=generation == live_generation,
        state=shown,
        checkpoint=f"{r['transaction_id']}:{r['position']}",
        events_applied=r["events_applied"],
        lag_events=lag_events,
        lag_seconds=lag_seconds,
        events_per_second=round(r["rate"], 1),
        error=r["error"],
        failed_position=r["failed_position"],
        updated_at=r["updated_at"],
    )
