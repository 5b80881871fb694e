"""Verify the log from its raw rows: every stream's hash chain, the Merkle leaves, every seal,
and optionally tree heads an auditor kept outside the database."""

from __future__ import annotations

import asyncio
import base64
import binascii
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import asyncpg
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tracker.audit import merkle, tree
from tracker.audit.keys import key_id_of
from tracker.audit.seals import Seal, verify_signature
from tracker.eventstore.chain import (
    GENESIS,
    ChainBreak,
    canonical_bytes,
    canonical_of,
    chain_hash,
    encode_payload,
)

PAGE = 10_000  # stored leaves compared per query
# A stream whose next version never arrives parks its later events here until the end; past
# this many the oldest gap is reported at once, so a gutted stream cannot exhaust memory.
MAX_WAITING = 100_000
MAX_FINDINGS = 50  # kept per kind, so a flood of failing seals cannot hide the first event
# Findings that name an event come first: they say where the log was changed.
KIND_ORDER = {"chain": 0, "leaf": 1, "seal": 2, "head": 3}

# Every committed event of one snapshot in global order. No horizon is needed: whatever sits
# above it has a larger transaction id than anything sealed, so it can only follow the leaves.
# Each row is one JSON array of the envelope in RecordedEvent's field order.
EVENTS = """
SELECT json_build_array(position, transaction_id::text::numeric, stream_id, stream_type, version,
       type, type_version, payload, occurred_at, recorded_at, actor, on_behalf_of, source,
       correlation_id, causation_id, translate(encode(hash, 'base64'), E'\\n', ''))
FROM events ORDER BY transaction_id, position
"""
# Times in JSON carry the session's offset; in UTC they decode exactly as the driver's do.
UTC_TIMES = "SET LOCAL TimeZone = 'UTC'"
LEAF_PAGE = """
SELECT coalesce(string_agg(leaf_hash, ''::bytea ORDER BY leaf_index), ''::bytea)
FROM merkle_leaves WHERE leaf_index >= $1 AND leaf_index < $2
"""
LEAF_POSITION = "SELECT position FROM merkle_leaves WHERE leaf_index = $1"
BEYOND = """
SELECT (SELECT count(*) FROM merkle_leaves), count(*), min(leaf_index),
       (array_agg(position ORDER BY leaf_index))[1]
FROM merkle_leaves WHERE leaf_index >= $1
"""
SEALS = "SELECT tree_size, root_hash, sealed_at, key_id, signature FROM seals ORDER BY tree_size"
KEYS = "SELECT key_id, public_key FROM seal_keys"
EXPORT_SNAPSHOT = "SELECT pg_export_snapshot()"


class Finding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing that does not match, with the event or head it concerns."""

    kind: str  # chain | leaf | seal | head
    message: str
    stream_id: UUID | None = None
    version: int | None = None
    position: int | None = None
    tree_size: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class Report(msgspec.Struct, kw_only=True):
    """What was checked and what did not match, first problem first within each kind."""

    events: int = 0
    streams: int = 0
    leaves: int = 0
    seals: int = 0
    heads: int = 0
    seconds: float = 0.0
    findings: list[Finding] = msgspec.field(default_factory=list)
    more: int = 0  # findings beyond MAX_FINDINGS of a kind, counted but not kept
    notes: list[str] = msgspec.field(default_factory=list)  # what could not be checked

    @property
    def ok(self) -> bool:
        """Whether everything matched."""
        return not self.findings

    def add(self, finding: Finding) -> None:
        """Keep a finding (the first MAX_FINDINGS of its kind)."""
        if sum(f.kind == finding.kind for f in self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.more += 1

    def lines(self) -> list[str]:
        """A readable summary, then each finding."""
        rate = self.events / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"checked {self.events:,} events in {self.streams:,} streams, {self.leaves:,} "
            f"stored leaves, {self.seals:,} seals and {self.heads:,} saved heads "
            f"in {self.seconds:.1f} s ({rate:,.0f} events/s)"
        ]
        out += [f"note: {n}" for n in self.notes]
        if self.ok:
            out.append("OK: every chain, leaf, seal and saved head matches the log")
            return out
        out.append(f"FAILED: {len(self.findings) + self.more} problem(s)")
        out += [f"  {f}" for f in self.findings]
        if self.more:
            out.append(f"  ... and {self.more} more")
        return out


class Row(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An event row as verification reads it: RecordedEvent's fields, with the ids as the text
    that canonical bytes and leaves are made of (formatting a UUID per use costs more than all
    the hashing)."""

    position: int
    transaction_id: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    type_version: int
    payload: Any
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    on_behalf_of: str | None
    source: str | None
    correlation_id: str | None
    causation_id: str | None
    hash: bytes


def canonical_of_row(row: Row) -> bytes:
    """chain.canonical_of for a row whose ids are already text: the same canonical_bytes.

    Its times are UTC already (the COPY stream is read with TimeZone UTC), so utc() is skipped.
    """
    return canonical_bytes(
        row.stream_id,
        row.stream_type,
        row.version,
        row.type,
        row.type_version,
        row.occurred_at,
        (row.actor, row.on_behalf_of, row.source, row.correlation_id, row.causation_id),
        encode_payload(row.payload),
    )


def leaf_of_row(row: Row) -> bytes:
    """tree.leaf_of for a row: leaf_bytes only formats the stream id, and text is what it
    formats it to."""
    return merkle.leaf(
        row.position, cast(UUID, row.stream_id), row.version, row.recorded_at, row.hash
    )


# An event as Chains reads it: a RecordedEvent or a Row.
Chained = Any


def _named(event: Chained) -> str:
    return f"stream {event.stream_id} version {event.version} (position {event.position})"


def _break(event: Chained, reason: str) -> ChainBreak:
    return ChainBreak(UUID(str(event.stream_id)), event.version, event.position, reason)


class Chains:
    """Every stream's hash chain checked in one pass over the log in global order, with each
    stream's last version and hash in a dict. It hashes exactly what verify_chain does per
    stream (canonical bytes, chain_hash), so the two cannot disagree."""

    def __init__(self, canonical: Callable[[Chained], bytes] = canonical_of) -> None:
        self.canonical = canonical
        self.last: dict[Any, tuple[int, bytes]] = {}
        # An event whose predecessor is not seen yet, keyed by (stream, version), with its
        # place in the pass; normally empty.
        self.waiting: dict[tuple[Any, int], tuple[int, Chained]] = {}
        self.breaks: list[tuple[int, ChainBreak]] = []
        self._given_up: set[Any] = set()

    def add(self, event: Chained, index: int) -> None:
        """Check one event against its stream's previous one."""
        sid = event.stream_id
        last = self.last.get(sid)
        expected, previous = (1, GENESIS) if last is None else (last[0] + 1, last[1])
        if event.version != expected:
            self._out_of_turn(event, index, expected)
            return
        self._accept(event, index, previous)
        if self.waiting:
            self._release(sid, event.version + 1)

    def _accept(self, event: Chained, index: int, previous: bytes) -> None:
        if chain_hash(previous, self.canonical(event)) != event.hash:
            self.breaks.append((index, _break(event, "hash does not match")))
        # Continue from the stored hash, so one altered event is one finding, not a cascade.
        self.last[event.stream_id] = (event.version, event.hash)

    def _release(self, sid: Any, version: int) -> None:
        while (parked := self.waiting.pop((sid, version), None)) is not None:
            self._accept(parked[1], parked[0], self.last[sid][1])
            version += 1

    def _out_of_turn(self, event: Chained, index: int, expected: int) -> None:
        if event.stream_id in self._given_up:
            return
        if event.version < expected:
            self.breaks.append((index, _break(event, f"version repeats; expected {expected}")))
            return
        # A transaction that wrote before appending can commit a stream's next event under a
        # smaller transaction id, so a later version may legitimately come first: park it.
        self.waiting[(event.stream_id, event.version)] = (index, event)
        if len(self.waiting) > MAX_WAITING:
            oldest = min(self.waiting.values(), key=lambda w: w[0])
            self._give_up(oldest[1].stream_id)

    def _give_up(self, sid: Any) -> None:
        parked = sorted(
            (w for k, w in self.waiting.items() if k[0] == sid), key=lambda w: w[1].version
        )
        index, event = parked[0]
        expected = self.last.get(sid, (0, b""))[0] + 1
        self.breaks.append((index, _break(event, f"expected version {expected}")))
        for w in parked:
            del self.waiting[(sid, w[1].version)]
        self._given_up.add(sid)

    def finish(self) -> list[ChainBreak]:
        """Every break found, in log order; a version never seen breaks its successor."""
        for sid in {sid for sid, _ in self.waiting}:
            self._give_up(sid)
        return [b for _, b in sorted(self.breaks, key=lambda b: b[0])]

    @property
    def streams(self) -> int:
        """How many streams were seen."""
        return len(self.last) + len(self._given_up - self.last.keys())


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


def load_heads(path: Path) -> list[Seal]:
    """Tree heads an auditor saved: a JSON list of {tree_size, root_hash, sealed_at, key_id,
    signature}, hashes in hex (as `GET /audit/seals` serves them) or base64."""
    data = msgspec.json.decode(path.read_bytes())
    if isinstance(data, dict):  # a saved page of GET /audit/seals, or a single head
        data = next((data[k] for k in ("seals", "heads", "items") if k in data), [data])
    return [
        Seal(
            int(h["tree_size"]),
            _bytes(h["root_hash"], 32),
            msgspec.convert(h["sealed_at"], datetime),
            str(h["key_id"]),
            _bytes(h["signature"], 64),
        )
        for h in data
    ]


def _bytes(text: str, size: int) -> bytes:
    if len(text) == 2 * size:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"{text!r} is neither hex nor base64") from None


class _Heads:
    """The heads to check, by tree size: stored seals and the auditor's saved heads."""

    def __init__(
        self,
        seals: Sequence[Seal],
        saved: Sequence[Seal],
        keys: dict[str, bytes],
        trusted: bytes | None,
    ) -> None:
        self.stored = {s.tree_size: s for s in seals}
        self.saved = sorted(saved, key=lambda h: h.tree_size)
        self.keys = keys
        self.trusted = trusted
        self.sizes = sorted({*self.stored, *(h.tree_size for h in self.saved)})
        self._saved_at: dict[int, list[Seal]] = {}
        for h in self.saved:
            self._saved_at.setdefault(h.tree_size, []).append(h)

    def check(self, size: int, root: bytes, report: Report) -> None:
        """Compare every head of this size with the root recomputed from the log."""
        stored = self.stored.get(size)
        if stored is not None:
            self._check_stored(stored, root, report)
        for head in self._saved_at.get(size, []):
            self._check_saved(head, root, report)

    def _check_stored(self, seal: Seal, root: bytes, report: Report) -> None:
        if seal.root_hash != root:
            report.add(_head_finding("seal", seal, root))
        public = self.keys.get(seal.key_id)
        if public is None:
            report.add(
                Finding(
                    kind="seal",
                    message=f"seal of size {seal.tree_size}: key {seal.key_id} is not in seal_keys",
                    tree_size=seal.tree_size,
                )
            )
        elif key_id_of(public) != seal.key_id or not verify_signature(seal, public):
            report.add(
                Finding(
                    kind="seal",
                    message=f"seal of size {seal.tree_size}: the signature does not verify "
                    f"with key {seal.key_id}",
                    tree_size=seal.tree_size,
                )
            )

    def _check_saved(self, head: Seal, root: bytes, report: Report) -> None:
        # Only the root and the signature matter: a store restored from an export is sealed
        # again under its own key, at sizes of its own, and that is no reason for alarm.
        if head.root_hash != root:
            report.add(_head_finding("head", head, root))
        public = self.trusted if self.trusted is not None else self.keys.get(head.key_id)
        if public is None:
            note = (
                f"the signatures of saved heads by key {head.key_id} were not checked: this "
                "database does not know that key (pass the public key you kept with them)"
            )
            if note not in report.notes:
                report.notes.append(note)
        elif not verify_signature(head, public):
            whose = "the trusted public key" if self.trusted is not None else "seal_keys"
            report.add(
                Finding(
                    kind="head",
                    message=f"saved head of size {head.tree_size}: the signature does not "
                    f"verify with {whose} (key {head.key_id})",
                    tree_size=head.tree_size,
                )
            )

    def beyond(self, count: int, report: Report) -> None:
        """Heads larger than the log: events they covered are gone."""
        for size in self.sizes:
            if size <= count:
                continue
            found = [("seal", self.stored[size])] if size in self.stored else []
            found += [("head", h) for h in self._saved_at.get(size, [])]
            for kind, head in found:
                report.add(
                    Finding(
                        kind=kind,
                        message=f"{_what(kind)} of size {size} covers {size:,} events but the "
                        f"log holds {count:,}: events were removed (root "
                        f"{head.root_hash.hex()[:16]}…)",
                        tree_size=size,
                    )
                )


def _what(kind: str) -> str:
    return "seal" if kind == "seal" else "saved head"


def _head_finding(kind: str, head: Seal, root: bytes) -> Finding:
    return Finding(
        kind=kind,
        message=f"{_what(kind)} of size {head.tree_size} (sealed {head.sealed_at:%Y-%m-%d %H:%M:%S}"
        f", key {head.key_id}) has root {head.root_hash.hex()[:16]}… but the first "
        f"{head.tree_size:,} events of the log hash to {root.hex()[:16]}…",
        tree_size=head.tree_size,
    )


class _StoredLeaves:
    """The stored leaves, a page of hashes per query on a second connection, compared with the
    leaves recomputed from the log; the next page is fetched while this one is compared."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._start = 0  # leaf index of the first pending leaf
        self._pending: list[bytes] = []
        self._events: list[Row] = []
        self._next: asyncio.Future[bytes] | None = None
        self.ended = False
        self.first: Finding | None = None
        self.mismatches = 0

    def _fetch(self, start: int) -> asyncio.Future[bytes]:
        return asyncio.ensure_future(self._conn.fetchval(LEAF_PAGE, start, start + PAGE))

    async def extend(self, leaves: list[bytes], events: list[Row]) -> None:
        """Queue recomputed leaves; compare each page as it fills."""
        self._pending += leaves
        self._events += events
        while len(self._pending) >= PAGE:
            await self.compare(PAGE)

    async def compare(self, count: int | None = None) -> None:
        """Compare the next count pending leaves (all by default) with the stored ones."""
        count = len(self._pending) if count is None else count
        if count and not self.ended:
            stored = await (self._next or self._fetch(self._start))
            self._next = None
            if stored != b"".join(self._pending[:count]):
                await self._locate(stored)
            self._start += count
            self.ended = len(stored) < 32 * count
            if not self.ended:
                self._next = self._fetch(self._start)
        del self._pending[:count], self._events[:count]

    async def _locate(self, stored: bytes) -> None:
        start = self._start
        for i, leaf in enumerate(self._pending[: len(stored) // 32]):
            if stored[32 * i : 32 * i + 32] != leaf:
                self.mismatches += 1
                if self.first is None:
                    self.first = await self._finding(start + i, self._events[i])

    async def _finding(self, index: int, event: Row) -> Finding:
        sealed_for = await self._conn.fetchval(LEAF_POSITION, index)
        what = (
            f"was sealed for position {sealed_for}"
            if sealed_for != event.position
            else "was sealed with another hash"
        )
        return Finding(
            kind="leaf",
            message=f"leaf {index}: the log has {_named(event)} here, but the leaf {what}",
            stream_id=UUID(event.stream_id),
            version=event.version,
            position=event.position,
        )

    async def finish(self, count: int, report: Report) -> None:
        """Compare the rest, then report the first mismatch and any leaves past the log."""
        await self.compare()
        if self._next is not None:
            await self._next  # a page past the end: cheap, and the connection must be idle
        if self.first is not None:
            more = self.mismatches - 1
            extra = f" ({more:,} more leaves differ)" if more else ""
            report.add(msgspec.structs.replace(self.first, message=self.first.message + extra))
        total, beyond, first_index, first_position = await self._conn.fetchrow(BEYOND, count)
        report.leaves = total
        if beyond:
            report.add(
                Finding(
                    kind="leaf",
                    message=f"{beyond:,} sealed leaves (from leaf {first_index}, position "
                    f"{first_position}) have no event in the log: events were removed",
                    position=first_position,
                )
            )


async def verify(
    pool: asyncpg.Pool, against: Iterable[Seal] = (), trusted_key: bytes | None = None
) -> Report:
    """Check the whole log in one consistent snapshot; trusted_key (raw Ed25519 public key)
    checks saved heads' signatures instead of the keys stored in the database."""
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
            await events_conn.execute(UTC_TIMES)
            seals = [Seal(*r) for r in await events_conn.fetch(SEALS)]
            keys = {r[0]: r[1] for r in await events_conn.fetch(KEYS)}
            heads = _Heads(seals, list(against), keys, trusted_key)
            report.seals, report.heads = len(seals), len(heads.saved)
            await _check_log(events_conn, _StoredLeaves(leaves_conn), heads, report)
            report.findings.sort(key=lambda f: KIND_ORDER[f.kind])
        finally:
            await tx2.rollback()
            await tx.rollback()
    report.seconds = time.monotonic() - started
    return report


class _Pass:
    """One pass over the log: chains, leaves, tree heads, and the stored leaves alongside."""

    def __init__(self, stored: _StoredLeaves, heads: _Heads, report: Report) -> None:
        self.chains, self.roots = Chains(canonical_of_row), Roots()
        self.stored, self.heads, self.report = stored, heads, report
        self._sizes = iter(heads.sizes)
        self._next_size = next(self._sizes, None)
        self.count = 0
        self._decode = msgspec.json.Decoder(list[Row]).decode
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

    async def _events(self, events: list[Row]) -> None:
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
        await self.stored.extend(leaves, events)
        self.count += len(events)


async def _check_log(conn: Any, stored: _StoredLeaves, heads: _Heads, report: Report) -> None:
    run = _Pass(stored, heads, report)
    # COPY streams the rows with no per-row protocol overhead, each as one JSON array decoded
    # in bulk: several times cheaper than decoding sixteen columns per row in the driver.
    await conn.copy_from_query(EVENTS, output=run.feed)
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


def load_public_key(path: Path) -> bytes:
    """The raw bytes of an Ed25519 public key kept as PEM (as `GET /audit/public-key` serves)."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


async def verify_command(
    pool: asyncpg.Pool, against: Path | None = None, public_key: Path | None = None
) -> int:
    """`tracker audit verify [--against heads.json] [--public-key key.pem]`: 0 when
    everything matches, 1 naming what does not, 2 when the inputs cannot be read."""
    try:
        heads = [] if against is None else await asyncio.to_thread(load_heads, against)
        trusted = (
            None if public_key is None else await asyncio.to_thread(load_public_key, public_key)
        )
    except (OSError, ValueError, KeyError, TypeError, msgspec.DecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = await verify(pool, heads, trusted)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1
