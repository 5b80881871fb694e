"""The log as it stood at a past point: an event's place, a stream's version, a cut."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from tracker.eventstore.envelope import START, Checkpoint
from tracker.eventstore.log import Executor

EVENT_AT = "SELECT transaction_id, position, recorded_at FROM events WHERE position = $1"
VERSION_AT_POSITION = """
SELECT (SELECT max(e.version) FROM events e
        WHERE e.stream_id = $1 AND (e.transaction_id, e.position) <= (p.transaction_id, p.position))
FROM events p WHERE p.position = $2
"""
VERSION_AT_MOMENT = "SELECT max(version) FROM events WHERE stream_id = $1 AND recorded_at <= $2"
# The log's order is not recorded_at's: the last event in that order recorded by the moment.
LAST_AT_MOMENT = """
SELECT transaction_id, position FROM events WHERE recorded_at <= $1
ORDER BY transaction_id DESC, position DESC LIMIT 1
"""


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


async def last_at_moment(db: Executor, moment: datetime) -> Checkpoint:
    """The checkpoint of the last event recorded at or before a moment; START if none."""
    row = await db.fetchrow(LAST_AT_MOMENT, moment)
    return START if row is None else Checkpoint(row[0], row[1])
