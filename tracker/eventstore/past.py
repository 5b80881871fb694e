"""The log as it stood at a past point: an event's place, a stream's version, a replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg

from tracker.database import Connection
from tracker.eventstore.envelope import START, Checkpoint, RecordedEvent
from tracker.eventstore.log import COLUMNS, Executor
from tracker.eventstore.scan import FOLDED

EVENT_AT = "SELECT transaction_id, position, recorded_at FROM events WHERE position = $1"
VERSION_AT_POSITION = """
SELECT (SELECT max(e.version) FROM events e
        WHERE e.stream_id = $1 AND (e.transaction_id, e.position) <= (p.transaction_id, p.position))
FROM events p WHERE p.position = $2
"""
VERSION_AT_MOMENT = "SELECT max(version) FROM events WHERE stream_id = $1 AND recorded_at <= $2"
# Only transactions that had finished by then count: the same horizon live readers stop at.
HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())"
REPLAY_TO_POSITION = """
SELECT {columns} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND (transaction_id, position) <= ($3::xid8, $4)
  AND transaction_id < $5::xid8
ORDER BY transaction_id, position
LIMIT $6
"""
REPLAY_TO_MOMENT = """
SELECT {columns} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND recorded_at <= $3
  AND transaction_id < $4::xid8
ORDER BY transaction_id, position
LIMIT $5
"""
# The folds need no transaction id; the pages do, to go on from the last row.
FOLDED_PAGED = f"{FOLDED}, transaction_id"

# Where a replay stops: after the event with this checkpoint, or after this recorded time.
Until = Checkpoint | datetime


class NoEventAt(LookupError):
    """No event has this global position."""

    def __init__(self, position: int) -> None:
        super().__init__(f"no event at global position {position}")
        self.position = position


async def event_at(db: Executor, position: int) -> tuple[Checkpoint, datetime]:
    """The checkpoint and recorded time of the event at a global position."""
    row = await db.fetchrow(EVENT_AT, position)
    if row is None:
        raise NoEventAt(position)
    return Checkpoint(row[0], row[1]), row[2]


async def version_at_position(db: Executor, stream_id: UUID, position: int) -> int | None:
    """The stream's last version at or before the event at a position; None if it had none."""
    row = await db.fetchrow(VERSION_AT_POSITION, stream_id, position)
    if row is None:
        raise NoEventAt(position)
    return None if row[0] is None else int(row[0])


async def version_at_moment(db: Executor, stream_id: UUID, moment: datetime) -> int | None:
    """The stream's last version recorded at or before a moment; None if it had none."""
    version = await db.fetchval(VERSION_AT_MOMENT, stream_id, moment)
    return None if version is None else int(version)


async def horizon(db: Executor) -> int:
    """The oldest transaction still running: everything below it is final."""
    return int(await db.fetchval(HORIZON))


async def replay_events(
    conn: Connection, until: Until, below: int, batch_size: int
) -> AsyncIterator[list[RecordedEvent]]:
    """The log up to a cut, written by transactions below a horizon, in global order."""
    async for rows in _pages(conn, COLUMNS, until, below, batch_size):
        yield [RecordedEvent(*r) for r in rows]


def replay_folded(
    conn: Connection, until: Until, below: int, batch_size: int
) -> AsyncIterator[list[asyncpg.Record]]:
    """As replay_events, each row only the columns of scan.FOLDED (then the transaction id)."""
    return _pages(conn, FOLDED_PAGED, until, below, batch_size)


async def _pages(
    conn: Connection, columns: str, until: Until, below: int, batch_size: int
) -> AsyncIterator[list[asyncpg.Record]]:
    """Rows of the log up to the cut, a batch at a time, each with its checkpoint's columns."""
    after = START
    while True:
        end: list[object]
        if isinstance(until, Checkpoint):
            query, end = REPLAY_TO_POSITION, [until.transaction_id, until.position]
        else:
            query, end = REPLAY_TO_MOMENT, [until]
        rows = await conn.fetch(
            query.format(columns=columns),
            after.transaction_id,
            after.position,
            *end,
            below,
            batch_size,
        )
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        after = Checkpoint(rows[-1]["transaction_id"], rows[-1]["position"])
