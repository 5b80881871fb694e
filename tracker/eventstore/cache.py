"""Recently used aggregates kept in memory, so a command need not replay their streams."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from uuid import UUID

from eventsourcing.domain import Aggregate


class AggregateCache:
    """The last known state of recently used aggregates, least recently used dropped first.

    Entries are kept pickled: every reader gets its own copy, so nobody changes another's,
    and bytes are invisible to the garbage collector, whose full passes over thousands of
    live aggregates paused requests for up to 100 ms. An entry may be behind its stream;
    callers bring it up to date or save with a guard that the stream has not moved past it.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        # Keyed by the id's integer: the garbage collector tracks UUID objects, not ints.
        self._entries: OrderedDict[int, tuple[int, bytes]] = OrderedDict()

    def load(self, aggregate_id: UUID) -> Aggregate | None:
        """A copy of the cached aggregate, if any."""
        entry = self._entries.get(aggregate_id.int)
        if entry is None:
            return None
        self._entries.move_to_end(aggregate_id.int)
        aggregate: Aggregate = pickle.loads(entry[1])
        return aggregate

    def put(self, aggregate: Aggregate) -> None:
        """Keep an aggregate's state, unless a newer one is already kept."""
        key = aggregate.id.int
        kept = self._entries.get(key)
        if kept is not None and kept[0] > aggregate.version:
            return
        self._entries[key] = (aggregate.version, pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL))
        self._entries.move_to_end(key)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()
