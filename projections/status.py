"""How each projection is doing: where it is, how far behind, and whether it is running."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg
import msgspec

from projections.runner import LEAD, REBUILD

STATUS = """
SELECT g.name, g.generation, p.live_generation, g.transaction_id, g.position, g.events_applied,
       g.state, g.error, g.failed_position, g.updated_at,
       CASE WHEN g.updated_at > now() - interval '10 seconds' THEN g.events_per_second ELSE 0 END,
       (SELECT count(*) FROM events e
        WHERE (e.transaction_id, e.position) > (g.transaction_id, g.position)),
       (SELECT min(e.recorded_at) FROM events e
        WHERE (e.transaction_id, e.position) > (g.transaction_id, g.position)),
       EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = $1 AND l.objid = (hashtext(g.name)::bigint & 4294967295)::oid),
       EXISTS (SELECT FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = $2 AND l.objid = (hashtext(g.name)::bigint & 4294967295)::oid)
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
    out = []
    for r in await pool.fetch(STATUS, LEAD, REBUILD):
        (
            name,
            generation,
            live_generation,
            txid,
            position,
            applied,
            state,
            error,
            failed_at,
            updated,
            rate,
            lag,
            oldest,
            leading,
            rebuilding,
        ) = r
        if running is not None and name not in running:
            shown = "retired"
        elif state == "failed":
            shown = "failed"
        elif generation != live_generation:
            shown = "rebuilding" if rebuilding else "rebuild interrupted"
        else:
            shown = "running" if leading else "stopped"
        out.append(
            ProjectionStatus(
                name=name,
                generation=generation,
                live=generation == live_generation,
                state=shown,
                checkpoint=f"{txid}:{position}",
                events_applied=applied,
                lag_events=lag,
                lag_seconds=0.0 if oldest is None else round((now - oldest).total_seconds(), 3),
                events_per_second=round(rate, 1),
                error=error,
                failed_position=failed_at,
                updated_at=updated,
            )
        )
    return out
