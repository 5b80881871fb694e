"""How each projection is doing: where it is, how far behind, and whether it is running."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import asyncpg
import msgspec

from projections.runner import REBUILD
from tracker.eventstore import Checkpoint
from tracker.eventstore.horizon import HeldBackBy, held_back_by
from tracker.eventstore.log import lag

STATUS = """
SELECT g.name, g.generation, p.live_generation, g.transaction_id, g.position, g.events_applied,
       g.state, g.error, g.failed_position, g.updated_at,
       CASE WHEN g.updated_at > now() - interval '10 seconds' THEN g.events_per_second ELSE 0 END
           AS rate,
       coalesce(l.expires_at > clock_timestamp(), false) AS leading, l.holder, l.retry_error,
       -- Advisory locks are per database, but pg_locks lists every database's.
       EXISTS (SELECT FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted
               AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND k.classid = $1 AND k.objid = (hashtext(g.name)::bigint & 4294967295)::oid)
           AS rebuilding
FROM projection_generations g LEFT JOIN projections p ON p.name = g.name
LEFT JOIN projection_leases l ON l.name = g.name
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
    # The process holding the projection's lease, while it is live.
    leader: str | None = None
    # While retrying: the transient error being retried.
    retrying_error: str | None = None
    # While an open transaction holds the log back past the warning threshold (and events wait).
    held_back_by: HeldBackBy | None = None


async def statuses(
    pool: asyncpg.Pool, running: Collection[str] | None = None, horizon_warning: float = 5.0
) -> list[ProjectionStatus]:
    """Every projection generation with its lag and state (running, rebuilding, failed...).

    A name not in running (the projections this release runs, if given) shows as retired: an
    upgrade left it behind, and its lag only grows until it is dropped. A generation with lag
    names the transaction holding the log back, if one has for over horizon_warning seconds.
    """
    now = await pool.fetchval("SELECT now()")
    rows = await pool.fetch(STATUS, REBUILD)
    lags = await lag(pool, [Checkpoint(r["transaction_id"], r["position"]) for r in rows])
    blocker = await held_back_by(pool, horizon_warning)
    return [
        _status(r, count, _seconds(now, oldest), running, blocker if count else None)
        for r, (count, oldest) in zip(rows, lags, strict=True)
    ]


def _seconds(now: datetime, oldest: datetime | None) -> float:
    return 0.0 if oldest is None else round((now - oldest).total_seconds(), 3)


def _status(
    r: asyncpg.Record,
    lag_events: int,
    lag_seconds: float,
    running: Collection[str] | None,
    blocker: HeldBackBy | None,
) -> ProjectionStatus:
    """One row of STATUS, its lag, and the state to show."""
    name, generation, live_generation = r["name"], r["generation"], r["live_generation"]
    if running is not None and name not in running:
        shown = "retired"
    elif r["state"] == "failed":
        shown = "failed"
    elif generation != live_generation:
        shown = "rebuilding" if r["rebuilding"] else "rebuild interrupted"
    elif not r["leading"]:
        shown = "stopped"
    else:
        shown = "retrying" if r["retry_error"] else "running"
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
        leader=r["holder"] if r["leading"] else None,
        retrying_error=r["retry_error"] if r["leading"] else None,
        held_back_by=blocker,
    )
