"""A cache of stream heads, so an append needs no round trip to extend a hash chain."""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID


class StreamHeads:
    """The last known (version, hash) of recently used streams.

    Safe to be stale: an event's hash at a given version never changes, and an append built on
    an old head fails on the (stream_id, version) key instead of writing a wrong chain.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        # Keyed by the id's integer: the garbage collector tracks UUID objects, not ints.
        self._heads: OrderedDict[int, tuple[int, bytes]] = OrderedDict()

    def hash_at(self, stream_id: UUID, version: int) -> bytes | None:
        """The hash of the stream's event at version, if that is the head we know."""
        head = self._heads.get(stream_id.int)
        if head is None or head[0] != version:
            return None
        self._heads.move_to_end(stream_id.int)
        return head[1]

    def remember(self, stream_id: UUID, version: int, hash_: bytes) -> None:
        """Record a head just read or written; forget the least recently used past capacity."""
        self._heads[stream_id.int] = (version, hash_)
        self._heads.move_to_end(stream_id.int)
        if len(self._heads) > self.capacity:
            self._heads.popitem(last=False)
