"""Reads of the global log in commit-safe order: pages, filtered pages, its ends, its lag."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tracker.database import Connection
from tracker.eventstore.envelope import Checkpoint, Page, RecordedEvent

# A pool, or one connection (a caller's transaction, or a pinned snapshot).
Executor = asyncpg.Pool | Connection

COLUMNS = """position, transaction_id, stream_id, stream_type, version, type, type_version, payload,
occurred_at, recorded_at, actor, on_behalf_of, source, correlation_id, causation_id, hash"""


def log_after(columns: str, where: str = "") -> str:
    """SQL for the global log after the checkpoint ($1, $2), in commit-safe order, $3 rows."""
    # Rows whose transaction id is below the oldest running transaction can no longer appear
    # behind the reader, so stopping at that horizon means a checkpoint never skips an event.
    return f"""
SELECT {columns} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  {where}
ORDER BY transaction_id, position
LIMIT $3
"""


READ_ALL = log_after(COLUMNS)
READ_ALL_OF_TYPES = log_after(COLUMNS, "AND type = ANY($4::text[])")
STREAM_VERSIONS = log_after("transaction_id, position, stream_id, version")
# Only what a leaf commits to (see merkle.leaf_bytes): sealing 10,000 events took 0.13-0.14 s
# this way against 0.19-0.20 s reading whole events (bench/audit_seal.py).
LEAVES = log_after("transaction_id, position, stream_id, version, recorded_at, hash")
# The newest event below the horizon: every event up to it is committed and none can still
# appear before it.
HEAD = """
SELECT transaction_id, position FROM events
WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id DESC, position DESC LIMIT 1
"""
# The newest committed event, horizon or not.
NEWEST = """
SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1
"""
PLACE = "SELECT transaction_id, position FROM events WHERE position = $1"
ANY_EVENT = "SELECT EXISTS (SELECT FROM events)"
COUNT_AFTER = "SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::xid8, $2)"
# For each checkpoint, in the order given: the events after it, and the oldest one's time.
LAG = """
SELECT (SELECT count(*) FROM events e
        WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)),
       (SELECT min(e.recorded_at) FROM events e
        WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position))
FROM unnest($1::xid8[], $2::bigint[]) WITH ORDINALITY AS c(transaction_id, position, n)
ORDER BY c.n
"""

# Only the first event after each checkpoint, by the global order's index: cheap however far
# behind the checkpoint is, unlike LAG's count.
FIRST_AFTER = """
SELECT (SELECT e.recorded_at FROM events e
        WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
        ORDER BY e.transaction_id, e.position LIMIT 1)
FROM unnest($1::xid8[], $2::bigint[]) WITH ORDINALITY AS c(transaction_id, position, n)
ORDER BY c.n
"""


class LogFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which events of the log to read; the default is all of them."""

    stream_id: UUID | None = None
    stream_type: str | None = None
    types: Sequence[str] | None = None
    actor: str | None = None
    on_behalf_of: str | None = None
    source: str | None = None
    # recorded_at in [since, until)
    since: datetime | None = None
    until: datetime | None = None

    def where(self, first: int) -> tuple[str, list[Any]]:
        """SQL conditions and their arguments, numbered from $first."""
        # Only the filters in use: the planner sees nothing else.
        given = [
            ("stream_id = {}::uuid", self.stream_id),
            ("stream_type = {}", self.stream_type),
            ("type = ANY({}::text[])", list(self.types) if self.types else None),
            ("actor = {}", self.actor),
            ("on_behalf_of = {}", self.on_behalf_of),
            ("source = {}", self.source),
            ("recorded_at >= {}::timestamptz", self.since),
            ("recorded_at < {}::timestamptz", self.until),
        ]
        args = [value for _, value in given if value is not None]
        used = [sql for sql, value in given if value is not None]
        where = "".join(f"\n  AND {sql.format(f'${first + i}')}" for i, sql in enumerate(used))
        return where, args


async def read_all(
    db: Executor, after: Checkpoint, limit: int, types: Sequence[str] | None = None
) -> Page:
    """The global log after a checkpoint, in commit-safe order, up to the horizon."""
    if types is None:
        rows = await db.fetch(READ_ALL, after.transaction_id, after.position, limit)
    else:
        rows = await db.fetch(
            READ_ALL_OF_TYPES, after.transaction_id, after.position, limit, list(types)
        )
    events = [RecordedEvent(*r) for r in rows]
    return Page(events, events[-1].checkpoint if events else after)


async def read_filtered(
    db: Executor, after: Checkpoint, limit: int, only: LogFilter
) -> list[RecordedEvent]:
    """The events the filter keeps after a checkpoint, in commit-safe order, up to the horizon."""
    where, args = only.where(4)
    rows = await db.fetch(
        log_after(COLUMNS, where), after.transaction_id, after.position, limit, *args
    )
    return [RecordedEvent(*r) for r in rows]


async def versions_after(
    db: Executor, after: Checkpoint, limit: int
) -> tuple[list[tuple[UUID, int]], Checkpoint]:
    """Which streams reached which versions after a checkpoint, and the checkpoint after them."""
    # As read_all would return them, in log order, but without the events.
    rows = await db.fetch(STREAM_VERSIONS, after.transaction_id, after.position, limit)
    if not rows:
        return [], after
    return [(r[2], r[3]) for r in rows], Checkpoint(rows[-1][0], rows[-1][1])


async def leaves_after(db: Executor, after: Checkpoint, limit: int) -> list[asyncpg.Record]:
    """What a Merkle leaf commits to of each event after a checkpoint, up to the horizon."""
    # Rows of transaction_id, position, stream_id, version, recorded_at, hash.
    return await db.fetch(LEAVES, after.transaction_id, after.position, limit)


async def head(db: Executor) -> Checkpoint | None:
    """The checkpoint of the newest readable event (below the horizon), if any."""
    return _checkpoint(await db.fetchrow(HEAD))


async def newest(db: Executor) -> Checkpoint | None:
    """The checkpoint of the newest committed event, readable yet or not."""
    return _checkpoint(await db.fetchrow(NEWEST))


async def checkpoint_at(db: Executor, position: int) -> Checkpoint | None:
    """The checkpoint of the event at a global position, if there is one."""
    return _checkpoint(await db.fetchrow(PLACE, position))


async def has_events(db: Executor) -> bool:
    """Whether the log holds any event at all."""
    return bool(await db.fetchval(ANY_EVENT))


async def count_after(db: Executor, after: Checkpoint) -> int:
    """How many committed events lie after a checkpoint."""
    return int(await db.fetchval(COUNT_AFTER, after.transaction_id, after.position))


async def lag(db: Executor, checkpoints: Sequence[Checkpoint]) -> list[tuple[int, datetime | None]]:
    """For each checkpoint: how many events lie after it, and when the oldest was recorded."""
    rows = await db.fetch(
        LAG, [c.transaction_id for c in checkpoints], [c.position for c in checkpoints]
    )
    return [(r[0], r[1]) for r in rows]


async def first_unapplied(db: Executor, checkpoints: Sequence[Checkpoint]) -> list[datetime | None]:
    """For each checkpoint: when the first event after it was recorded (None: none after)."""
    rows = await db.fetch(
        FIRST_AFTER,
        [c.transaction_id for c in checkpoints],
        [c.position for c in checkpoints],
    )
    return [r[0] for r in rows]


def _checkpoint(row: asyncpg.Record | None) -> Checkpoint | None:
    return None if row is None else Checkpoint(row[0], row[1])


AT_POSITIONS = f"SELECT {COLUMNS} FROM events WHERE position = ANY($1::bigint[]) ORDER BY position"


async def events_at(db: Executor, positions: Sequence[int]) -> list[RecordedEvent]:
    """The events at these global positions (those that exist), by position."""
    return [RecordedEvent(*r) for r in await db.fetch(AT_POSITIONS, list(positions))]
