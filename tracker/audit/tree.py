"""The stored Merkle tree: leaves and complete subtrees in PostgreSQL, proofs in one lookup."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import asyncpg
import msgspec

from tracker.audit import merkle
from tracker.database import Connection
from tracker.eventstore.envelope import RecordedEvent

LEAF_COUNT = "SELECT coalesce(max(leaf_index) + 1, 0) FROM merkle_leaves"
LEAF_AT = "SELECT leaf_index, leaf_hash FROM merkle_leaves WHERE position = $1"
LEAVES_BETWEEN = """
SELECT leaf_hash FROM merkle_leaves WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index
"""
# Level 0 is the leaves themselves; nodes above them live in merkle_nodes.
NODES = """
SELECT w.level, w.node_index, n.hash
FROM unnest($1::int[], $2::bigint[]) AS w(level, node_index)
JOIN merkle_nodes n ON n.level = w.level AND n.node_index = w.node_index
WHERE w.level > 0
UNION ALL
SELECT 0, l.leaf_index, l.leaf_hash
FROM unnest($1::int[], $2::bigint[]) AS w(level, node_index)
JOIN merkle_leaves l ON l.leaf_index = w.node_index
WHERE w.level = 0
"""
LEAF_COLUMNS = ("leaf_index", "position", "leaf_hash")
NODE_COLUMNS = ("level", "node_index", "hash")

Node = tuple[int, int]  # (level, index): leaves [index * 2^level, (index + 1) * 2^level)
# A pool or one connection: every table here is append-only, so reads need no snapshot.
Executor = asyncpg.Pool | Connection
ProofOf = Callable[[merkle.Subtree], list[bytes]]


class TreeDamaged(Exception):
    """Stored leaves or nodes the tree needs are missing: someone removed sealed rows."""


class OutsideTree(Exception):
    """A position or tree size the sealed tree does not (yet) cover."""


class Inclusion(msgspec.Struct, frozen=True):
    """Where an event sits in a tree of some size, and the audit path that proves it."""

    leaf_index: int
    leaf_hash: bytes
    tree_size: int
    path: list[bytes]


def pieces(start: int, end: int) -> list[Node] | None:
    """The complete subtrees making up leaves [start, end), largest first; None if unaligned."""
    # RFC 9162 proofs only ever ask for aligned ranges, each answered by O(log n) stored nodes.
    found: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start % (1 << level):
            return None
        found.append((level, start >> level))
        start += 1 << level
    return found


def fold(hashes: Sequence[bytes]) -> bytes:
    """The head over complete subtrees, largest first, combined right to left (RFC 9162 MTH)."""
    if not hashes:
        return merkle.EMPTY
    head = hashes[-1]
    for left in reversed(hashes[:-1]):
        head = merkle.node_hash(left, head)
    return head


class Frontier:
    """The complete subtrees along the right edge of the tree: all that appending needs."""

    def __init__(self, size: int, hashes: Sequence[bytes]) -> None:
        self.size = size
        self._edge = [
            (level, h) for (level, _), h in zip(pieces(0, size) or [], hashes, strict=True)
        ]
        self.leaves: list[tuple[int, int, bytes]] = []
        self.nodes: list[tuple[int, int, bytes]] = []

    def append(self, position: int, leaf: bytes) -> None:
        """Add a leaf; remember it and each subtree it completes, for writing."""
        index, level, head = self.size, 0, leaf
        self.leaves.append((index, position, leaf))
        while self._edge and self._edge[-1][0] == level:
            head = merkle.node_hash(self._edge.pop()[1], head)
            level += 1
            self.nodes.append((level, index >> level, head))
        self._edge.append((level, head))
        self.size += 1

    def root(self) -> bytes:
        """The head of the tree as it now stands."""
        return fold([h for _, h in self._edge])


def leaf_of(event: RecordedEvent) -> bytes:
    """The leaf hash of an event."""
    e = event
    return merkle.leaf(e.position, e.stream_id, e.version, e.recorded_at, e.hash)


async def leaf_count(db: Executor) -> int:
    """How many leaves are stored: the size of the newest sealed tree."""
    count: int = await db.fetchval(LEAF_COUNT)
    return count


async def frontier(db: Executor, size: int) -> Frontier:
    """The right edge of the stored tree of this size."""
    edge = pieces(0, size) or []
    found = await _nodes(db, edge)
    return Frontier(size, [found[n] for n in edge])


async def write(db: Connection, grown: Frontier) -> None:
    """Store the leaves and completed subtrees a frontier gathered."""
    await db.copy_records_to_table("merkle_leaves", records=grown.leaves, columns=LEAF_COLUMNS)
    if grown.nodes:
        await db.copy_records_to_table("merkle_nodes", records=grown.nodes, columns=NODE_COLUMNS)


async def subtrees(db: Executor, ranges: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hash of each range of leaves [start, end), from stored complete subtrees."""
    plans = {r: pieces(*r) for r in ranges}
    found = await _nodes(db, [n for plan in plans.values() if plan for n in plan])
    hashes = {}
    for (start, end), plan in plans.items():
        if plan is None:  # unaligned: no stored node helps, so hash the leaves themselves
            rows = await db.fetch(LEAVES_BETWEEN, start, end)
            if len(rows) != end - start:
                raise TreeDamaged(f"leaves {start} to {end - 1} are not all stored")
            hashes[(start, end)] = merkle.root([r[0] for r in rows])
        else:
            hashes[(start, end)] = fold([found[n] for n in plan])
    return hashes


async def subtree(db: Executor, start: int, end: int) -> bytes:
    """The hash of leaves [start, end) of the sealed tree."""
    if not 0 <= start <= end:
        raise ValueError("a range needs 0 <= start <= end")
    await _covered(db, end)
    return (await subtrees(db, [(start, end)]))[(start, end)]


async def inclusion(db: Executor, position: int, tree_size: int) -> Inclusion:
    """The audit path of the event at position in the tree of tree_size leaves."""
    await _covered(db, tree_size)
    row = await db.fetchrow(LEAF_AT, position)
    if row is None:
        raise OutsideTree(f"no sealed event at position {position}")
    index, leaf = row
    if index >= tree_size:
        raise ValueError(f"position {position} is leaf {index}, outside a tree of {tree_size}")
    path = await _proof(db, lambda subtree: merkle.inclusion_proof(index, tree_size, subtree))
    return Inclusion(index, leaf, tree_size, path)


async def consistency(db: Executor, old: int, new: int) -> list[bytes]:
    """The proof that the tree of old leaves is a prefix of the tree of new leaves."""
    if not 0 < old <= new:
        raise ValueError("sizes must satisfy 0 < from <= to")
    await _covered(db, new)
    return await _proof(db, lambda subtree: merkle.consistency_proof(old, new, subtree))


async def _proof(db: Executor, prove: ProofOf) -> list[bytes]:
    # merkle's proofs ask for subtrees one at a time; a dry run names them all first, so the
    # database answers them in one round trip.
    asked: list[tuple[int, int]] = []

    def ask(start: int, end: int) -> bytes:
        asked.append((start, end))
        return merkle.EMPTY

    prove(ask)
    hashes = await subtrees(db, asked)
    return prove(lambda start, end: hashes[(start, end)])


async def _covered(db: Executor, size: int) -> None:
    count = await leaf_count(db)
    if size > count:
        raise OutsideTree(f"the sealed tree has {count} leaves, not {size}")


async def _nodes(db: Executor, nodes: Sequence[Node]) -> dict[Node, bytes]:
    wanted = set(nodes)
    if not wanted:
        return {}
    levels, indexes = zip(*wanted, strict=True)
    found = {(r[0], r[1]): r[2] for r in await db.fetch(NODES, list(levels), list(indexes))}
    missing = wanted - found.keys()
    if missing:
        level, index = min(missing)
        raise TreeDamaged(f"the stored subtree at level {level}, index {index} is missing")
    return found
