"""Recently used aggregates kept in memory, so a command need not replay their streams."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from types import NoneType
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

A = TypeVar("A", bound=Aggregate)


class AggregateCache:
    """The last known state of recently used aggregates, least recently used dropped first.

    Entries are shared and never changed by their users: a caller that will change an aggregate
    gets its own copy. An entry may be behind its stream; callers either bring it up to date or
    save with a guard that the stream has not moved past it (see Repository).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        # Keyed by the id's integer: the garbage collector tracks UUID objects, not ints.
        self._entries: OrderedDict[int, Aggregate] = OrderedDict()

    def peek(self, aggregate_id: UUID) -> Aggregate | None:
        """The shared entry, if any: read it, do not change it."""
        entry = self._entries.get(aggregate_id.int)
        if entry is not None:
            self._entries.move_to_end(aggregate_id.int)
        return entry

    def put(self, aggregate: Aggregate) -> None:
        """Keep an aggregate nobody will change any more, unless a newer one is already kept."""
        key = aggregate.id.int
        kept = self._entries.get(key)
        if kept is not None and kept.version > aggregate.version:
            return
        self._entries[key] = aggregate
        self._entries.move_to_end(key)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()

    def forget(self, aggregate_id: UUID) -> None:
        """Drop an entry, say one whose stream could not be read back consistently."""
        self._entries.pop(aggregate_id.int, None)


# Values nothing can change in place. A UUID refuses new attributes, so it belongs here too.
_ATOMS = frozenset({str, int, float, bool, bytes, NoneType, date, datetime, Decimal})


def _immutable(value: object) -> bool:
    if type(value) in _ATOMS or isinstance(value, UUID):
        return True
    # Exactly these, not subclasses, which could carry attributes of their own.
    if type(value) is tuple or type(value) is frozenset:
        return all(_immutable(v) for v in value)
    return False


def private_copy(aggregate: A) -> A:
    """A copy its caller may change without touching the original.

    An aggregate whose state is all immutable values (a commitment's is) needs only a new
    attribute dictionary and a pending-events list of its own; any other is copied deeply,
    through pickle, about twice as fast as copy.deepcopy here.
    """
    state = aggregate.__dict__
    if all(_immutable(v) for k, v in state.items() if k != "_pending_events"):
        copied: A = object.__new__(type(aggregate))
        copied.__dict__.update(state)
        copied.__dict__["_pending_events"] = list(state.get("_pending_events", ()))
        return copied
    deep: A = pickle.loads(pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL))
    return deep
