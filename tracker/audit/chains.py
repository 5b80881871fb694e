"""Every stream's hash chain checked in one pass over the log in global order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

from tracker.audit import merkle
from tracker.eventstore import CopiedEvent
from tracker.eventstore.chain import (
    GENESIS,
    ChainBreak,
    canonical_bytes,
    canonical_of,
    chain_hash,
    encode_payload,
)

# A stream whose next version never arrives parks its later events here until the end; past
# this many the oldest gap is reported at once, so a gutted stream cannot exhaust memory.
MAX_WAITING = 100_000


def canonical_of_row(row: CopiedEvent) -> bytes:
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


def leaf_of_row(row: CopiedEvent) -> bytes:
    """tree.leaf_of for a row: leaf_bytes only formats the stream id, and text is what it
    formats it to."""
    return merkle.leaf(
        row.position, cast(UUID, row.stream_id), row.version, row.recorded_at, row.hash
    )


# An event as Chains reads it: a RecordedEvent or a CopiedEvent.
Chained = Any


def named(event: Chained) -> str:
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
