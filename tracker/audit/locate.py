"""Narrow a tree head that does not match the log to the first leaf that differs, by comparing
subtree roots recomputed from the log with those of an authentic copy of the sealed tree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tracker.audit import merkle

MISSING = b"missing"  # the hash of a range reaching past the log's end: equal to nothing
AsyncSubtree = Callable[[int, int], Awaitable[bytes]]


class Leaves:
    """Leaf hashes in one flat buffer: 32 bytes per event, in the log's order."""

    def __init__(self) -> None:
        self.data = bytearray()

    def extend(self, leaves: list[bytes]) -> None:
        """Append leaf hashes."""
        self.data += b"".join(leaves)

    def __len__(self) -> int:
        return len(self.data) // 32

    def subtree(self, start: int, end: int) -> bytes:
        """RFC 9162 MTH of leaves [start, end), or MISSING when the log is shorter."""
        if end > len(self):
            return MISSING
        data = self.data
        return merkle.root([bytes(data[32 * i : 32 * i + 32]) for i in range(start, end)])

    async def subtree_async(self, start: int, end: int) -> bytes:
        """subtree, as an AsyncSubtree."""
        return self.subtree(start, end)


async def first_difference(size: int, ours: Leaves, theirs: AsyncSubtree) -> int:
    """The index of the first leaf below size where the two trees differ (their roots over
    [0, size) must differ): descend into the left half when it differs, else the right."""
    start, end = 0, size
    while end - start > 1:
        k = merkle.split(end - start)
        if ours.subtree(start, start + k) != await theirs(start, start + k):
            end = start + k
        else:
            start += k
    return start
