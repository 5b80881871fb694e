"""The time events happen at: the clock of the command that raises them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import eventsourcing.domain

Now = Callable[[], datetime]


def system_now() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


# Per task, so that concurrent commands served by one process each read their own clock.
_CLOCK: ContextVar[Now] = ContextVar("clock", default=system_now)


@contextmanager
def stamped_by(now: Now) -> Iterator[None]:
    """Stamp the events raised inside this block with now()."""
    token = _CLOCK.set(now)
    try:
        yield
    finally:
        _CLOCK.reset(token)


class Aggregate(eventsourcing.domain.Aggregate):
    """Base of every aggregate: its events read the command's clock, not the machine's."""

    class Event(eventsourcing.domain.Aggregate.Event):
        """Base of every event."""

        @staticmethod
        def create_timestamp() -> datetime:
            """When the event happened, by the clock of the command that raised it."""
            return _CLOCK.get()()

    class Created(Event, eventsourcing.domain.Aggregate.Created):
        """Base of every creation event."""
