"""Time travel: any single resource as it stood at a past moment or global position."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from tracker.application.ports import NotFound
from tracker.domain import InvalidValue
from tracker.domain.time_range import require_within
from tracker.eventstore import START, Checkpoint
from tracker.eventstore.log import Executor
from tracker.eventstore.past import (
    NoEventAt,
    event_at,
    last_at_moment,
    version_at_moment,
    version_at_position,
)
from tracker.eventstore.repository import Repository

A = TypeVar("A", bound=Aggregate)

# What "as of" means, for single resources and views alike:
# * a global position P: every event whose (transaction_id, position) pair is at or before the
#   pair of the event at P (the log's order; positions alone are not commit order);
# * a timestamp T (ISO 8601 with an offset): every event recorded at or before T (recorded_at is
#   the start of the transaction that wrote it, shared by all events of one append).
# A timestamp cuts the log after the last event, in the log's order, recorded at or before it.
# Single resources replay their own stream up to version_at. Views read the projections'
# history: each row carries the range of the log during which it held, and the live view
# queries run over the rows whose range holds the cut, with "now" at the cut's moment
# (tracker/audit/past_views.py).

DIGITS = re.compile(r"[0-9]{1,18}")


class AsOf(msgspec.Struct, frozen=True):
    """A past point: exactly one of a global position and a timestamp."""

    position: int | None = None
    moment: datetime | None = None


class Cut(msgspec.Struct, frozen=True):
    """The last event a past view counts, and the moment overdue is judged at."""

    moment: datetime
    # The pair of the cut's last event; START if no event came before a timestamp.
    checkpoint: Checkpoint = START


def parse_as_of(value: str | int | datetime | AsOf) -> AsOf:
    """A position or a timestamp from the query string; 422 naming as_of otherwise."""
    if isinstance(value, AsOf):
        return value
    if isinstance(value, bool):
        raise _bad("a timestamp or a global position")
    if isinstance(value, int):
        if value < 1:
            raise _bad("a global position is a positive integer")
        return AsOf(position=value)
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if DIGITS.fullmatch(text):
            return parse_as_of(int(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _bad("a timestamp (ISO 8601) or a global position (an integer)") from None
    if moment.tzinfo is None:
        # A time without an offset means different moments to different readers.
        raise _bad("the timestamp needs a UTC offset, such as Z or +01:00")
    require_within("as_of", moment)
    return AsOf(moment=moment)


def _bad(reason: str) -> InvalidValue:
    return InvalidValue("as_of", reason)


async def resolve(db: Executor, as_of: str | int | datetime | AsOf) -> Cut:
    """The cut for as_of; a position must name an event that exists (422 otherwise)."""
    point = parse_as_of(as_of)
    if point.moment is not None:
        return Cut(moment=point.moment, checkpoint=await last_at_moment(db, point.moment))
    assert point.position is not None
    try:
        checkpoint, recorded_at = await event_at(db, point.position)
    except NoEventAt as missing:
        raise _bad(str(missing)) from None
    return Cut(moment=recorded_at, checkpoint=checkpoint)


async def version_at(
    db: Executor, stream_id: UUID, as_of: str | int | datetime | AsOf
) -> int | None:
    """The stream's last version at or before as_of, or None if it had no events then."""
    point = parse_as_of(as_of)
    if point.moment is not None:
        return await version_at_moment(db, stream_id, point.moment)
    assert point.position is not None
    try:
        return await version_at_position(db, stream_id, point.position)
    except NoEventAt as missing:
        raise _bad(str(missing)) from None


async def get_as_of(
    repository: Repository,
    cls: type[A],
    aggregate_id: UUID,
    as_of: str | int | datetime | AsOf | None,
) -> A:
    """The aggregate now (shared: never change it) or as at as_of; 404 if it did not exist then."""
    if as_of is None:
        return await repository.read(cls, aggregate_id)
    version = await version_at(repository.store.pool, aggregate_id, as_of)
    if version is None:
        raise NotFound(repository.mapper.stream_types[cls], aggregate_id)
    return await repository.get(cls, aggregate_id, version=version)
