"""Verify the log from its raw rows: every stream's hash chain, the Merkle leaves, every seal,
and optionally tree heads an auditor kept outside the database."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from tracker.audit import merkle, tree
from tracker.audit.chains import Chains, canonical_of_row, leaf_of_row
from tracker.audit.findings import KIND_ORDER, Finding, Report
from tracker.audit.locate import Leaves
from tracker.audit.locate_changes import Earlier, locate_changes
from tracker.audit.rotate import rotations
from tracker.audit.seals import Seal
from tracker.audit.stored_leaves import StoredLeaves
from tracker.audit.trust import Trust, load_pinned
from tracker.audit.verify_heads import Heads, Saved, load_heads
from tracker.eventstore import CopiedEvent
from tracker.eventstore.transfer import copy_log

SEALS = """
SELECT tree_size, root_hash, sealed_at, key_id, signature, checkpoint FROM seals ORDER BY tree_size
"""
KEYS = "SELECT key_id, public_key FROM seal_keys"
EXPORT_SNAPSHOT = "SELECT pg_export_snapshot()"


class Roots:
    """The tree head at any size, computed while leaves stream past: only the complete
    subtrees along the right edge are kept, one per set bit of the size (log2 n hashes)."""

    def __init__(self) -> None:
        self.size = 0
        self._edge: list[bytes] = []  # complete subtrees, largest first

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append leaf hashes; each merges the subtrees it completes (the size's low 1 bits)."""
        edge, node, size = self._edge, merkle.node_hash, self.size
        for leaf in leaves:
            head, carry = leaf, size
            while carry & 1:
                head = node(edge.pop(), head)
                carry >>= 1
            edge.append(head)
            size += 1
        self.size = size

    def root(self) -> bytes:
        """RFC 9162 MTH of the leaves so far."""
        return tree.fold(self._edge)


async def verify(
    pool: asyncpg.Pool,
    against: Iterable[Saved] = (),
    trusted_key: bytes | Iterable[bytes] | None = None,
    earlier: Earlier | None = None,
) -> Report:
    """Check the whole log in one consistent snapshot. trusted_key (raw Ed25519 public keys:
    one pinned key or a key history) is the only source of trust for signatures, extended by
    rotation statements those keys signed; earlier is a copy of the log the auditor kept,
    used to name the first event that differs from a saved head."""
    started = time.monotonic()
    report = Report()
    async with pool.acquire() as events_conn, pool.acquire() as leaves_conn:
        # Two connections on one exported snapshot: stored leaves are fetched on one while the
        # log streams on the other, and both see exactly the same database.
        tx = events_conn.transaction(isolation="repeatable_read", readonly=True)
        await tx.start()
        tx2 = leaves_conn.transaction(isolation="repeatable_read", readonly=True)
        try:
            snapshot = await events_conn.fetchval(EXPORT_SNAPSHOT)
            await tx2.start()
            await leaves_conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            rows = await events_conn.fetch(SEALS)
            seals = [Seal(*r[:5]) for r in rows]
            keys = {r[0]: r[1] for r in await events_conn.fetch(KEYS)}
            trust = await _trust(events_conn, trusted_key, report)
            notes = {r[0]: r[5] for r in rows if r[5] is not None}
            heads = Heads(seals, list(against), keys, trust, notes)
            report.seals, report.heads = len(seals), len(heads.saved)
            run = await _check_log(events_conn, StoredLeaves(leaves_conn), heads, report)
            await locate_changes(events_conn, leaves_conn, run.leaves, heads, report, earlier)
            report.findings.sort(key=lambda f: KIND_ORDER[f.kind])
        finally:
            await tx2.rollback()
            await tx.rollback()
    report.seconds = time.monotonic() - started
    return report


class _Pass:
    """One pass over the log: chains, leaves, tree heads, and the stored leaves alongside."""

    def __init__(self, stored: StoredLeaves, heads: Heads, report: Report) -> None:
        self.chains, self.roots = Chains(canonical_of_row), Roots()
        self.stored, self.heads, self.report = stored, heads, report
        self._sizes = iter(heads.sizes)
        self._next_size = next(self._sizes, None)
        self.count = 0
        self.leaves = Leaves()
        self._decode = msgspec.json.Decoder(list[CopiedEvent]).decode
        self._rest = b""

    async def feed(self, data: bytes) -> None:
        """A chunk of COPY text output: complete lines are rows, one JSON array each."""
        data = self._rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self._rest = data
            return
        self._rest = data[cut + 1 :]
        # COPY's text format escapes only backslashes here: JSON has no raw control characters.
        body = data[:cut].replace(b"\\\\", b"\\").replace(b"\n", b",")
        await self._events(self._decode(b"[" + body + b"]"))

    async def _events(self, events: list[CopiedEvent]) -> None:
        start, add = self.count, self.chains.add
        for index, event in enumerate(events, start):
            add(event, index)
        leaves = [leaf_of_row(e) for e in events]
        done = 0
        # Tree heads are due at their sizes, which may fall inside this batch.
        while self._next_size is not None and self._next_size <= start + len(leaves):
            cut = self._next_size - start
            self.roots.extend(leaves[done:cut])
            self.heads.check(self._next_size, self.roots.root(), self.report)
            done, self._next_size = cut, next(self._sizes, None)
        self.roots.extend(leaves[done:])
        self.leaves.extend(leaves)
        await self.stored.extend(leaves, events)
        self.count += len(events)


async def _trust(
    conn: Any, trusted_key: bytes | Iterable[bytes] | None, report: Report
) -> Trust | None:
    """The pinned keys, extended by the rotation statements they vouch for."""
    if trusted_key is None:
        return None
    trust = Trust([trusted_key] if isinstance(trusted_key, bytes) else trusted_key)
    for refused in trust.follow(await rotations(conn)):
        report.notes.append(
            f"a rotation statement introducing key {refused.key_id} is not signed by a "
            f"trusted key (it names {refused.previous_key_id})"
        )
    return trust


async def _check_log(conn: Any, stored: StoredLeaves, heads: Heads, report: Report) -> _Pass:
    run = _Pass(stored, heads, report)
    await copy_log(conn, run.feed)
    await run.feed(b"\n")  # COPY ends every row with one; this only guards a missing last one
    report.events = run.count
    for b in run.chains.finish():
        report.add(
            Finding(
                kind="chain",
                message=f"stream {b.stream_id} version {b.version} (position {b.position}): "
                f"{b.reason}",
                stream_id=b.stream_id,
                version=b.version,
                position=b.position,
            )
        )
    report.streams = run.chains.streams
    await stored.finish(run.count, report)
    heads.beyond(run.count, report)
    heads.missing_seals(report)
    return run


async def verify_command(
    pool: asyncpg.Pool,
    against: Path | None = None,
    public_key: Path | None = None,
    earlier: Path | None = None,
) -> int:
    """`tracker audit verify [--against heads] [--public-key keys.pem] [--earlier export]`:
    0 when everything matches, 1 naming what does not, 2 when the inputs cannot be read."""
    try:
        heads = [] if against is None else await asyncio.to_thread(load_heads, against)
        trusted = None if public_key is None else await asyncio.to_thread(load_pinned, public_key)
        kept = None if earlier is None else await asyncio.to_thread(Earlier.read, earlier)
    except (OSError, ValueError, KeyError, TypeError, msgspec.DecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = await verify(pool, heads, trusted, kept)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1
