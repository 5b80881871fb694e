"""Merkle trees over the global log, as in Certificate Transparency (RFC 9162, section 2.1).

Leaves are events in global order; a tree of size n covers the first n. Leaf and node hashes
are domain-separated (0x00 / 0x01 prefixes) so a leaf can never pass for a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

EMPTY = hashlib.sha256(b"").digest()

# The hash of the subtree of leaves [start, end); a server answers it from stored nodes.
Subtree = Callable[[int, int], bytes]


def leaf_bytes(
    position: int, stream_id: UUID, version: int, recorded_at: datetime, chain_hash: bytes
) -> bytes:
    """What a leaf commits to: the event's place in the log, its time, and its chain hash
    (which covers everything else). Transaction ids are left out: a restore renumbers them."""
    return msgspec.json.encode([position, str(stream_id), version, recorded_at, chain_hash.hex()])


def leaf(
    position: int, stream_id: UUID, version: int, recorded_at: datetime, chain_hash: bytes
) -> bytes:
    """The leaf hash of an event, from what it commits to (see leaf_bytes)."""
    return leaf_hash(leaf_bytes(position, stream_id, version, recorded_at, chain_hash))


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162: MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """The tree head hash over leaf hashes (RFC 9162 MTH), iteratively."""
    if not leaves:
        return EMPTY
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # an unpaired right edge moves up unchanged
        level = nxt
    return level[0]


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """The audit path for leaf index in a tree of size (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    return list(reversed(path))


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """Proof that the tree of size old is a prefix of the tree of size new (RFC 9162 2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError("sizes must satisfy 0 < old <= new")
    if old == new:
        return []
    return _subproof(old, 0, new, True, subtree)


def _subproof(m: int, start: int, end: int, complete: bool, subtree: Subtree) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree(start, end)]
    k = split(n)
    if m <= k:
        return [*_subproof(m, start, start + k, complete, subtree), subtree(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, subtree), subtree(start, start + k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], head: bytes
) -> bool:
    """Check an audit path against a tree head (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == head


def verify_consistency(
    old: int, new: int, old_head: bytes, new_head: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that new_head extends old_head (RFC 9162 2.1.4.2)."""
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and old_head == new_head
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its head starts the path
        path.insert(0, old_head)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_head and sr == new_head
