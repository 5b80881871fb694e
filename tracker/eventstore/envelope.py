"""The event envelope: what is written, what is read back, and where a reader is."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from tracker.application.ports import (
    Context as Context,  # re-exported: the envelope names who acted
)


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event to append: stable type name, payload, and business time."""

    type: str
    payload: Any
    type_version: int = 1
    occurred_at: datetime | None = None


class StreamAppend(msgspec.Struct, frozen=True, kw_only=True):
    """Events for one stream, written only if the stream is at expected_version."""

    stream_id: UUID
    stream_type: str
    expected_version: int
    events: list[NewEvent]


SYSTEM = Context(actor="system:tracker")


class Checkpoint(msgspec.Struct, frozen=True, order=True, array_like=True):
    """A place in the global log: (transaction_id, position), compared as a pair."""

    transaction_id: int = 0
    position: int = 0


START = Checkpoint()


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as stored, with its full envelope and chain hash."""

    position: int
    transaction_id: int
    stream_id: UUID
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
    correlation_id: UUID | None
    causation_id: UUID | None
    hash: bytes

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint just after this event."""
        return Checkpoint(self.transaction_id, self.position)


# The envelope is declared once, above. The forms below are the same fields in the same order,
# encoded differently for a fast path: each redefines only the fields whose encoding differs.


class ExportedEvent(RecordedEvent, frozen=True):
    """One line of an export: every envelope field, the payload as JSON, the hash as hex."""

    # The payload travels as the stored jsonb text and the hash as hex: no decoding and
    # re-encoding per event, and an import stores the payload exactly as it was.
    payload: msgspec.Raw
    hash: str  # type: ignore[assignment]
    # On the first event of an append made with an Idempotency-Key: the key and a digest of the
    # request, so a store restored from the export still answers a retry with the first result.
    # Absent from exports made before they were exported.
    idempotency_key: str | None = None
    request_digest: str | None = None


class CopiedEvent(RecordedEvent, frozen=True, array_like=True):
    """An event as the whole-log COPY yields it: one JSON array, the ids as text."""

    # Text is what canonical bytes and leaves are made of: formatting a UUID per use costs
    # more than all the hashing.

    stream_id: str  # type: ignore[assignment]
    correlation_id: str | None  # type: ignore[assignment]
    causation_id: str | None  # type: ignore[assignment]


class Appended(msgspec.Struct, frozen=True):
    """Where one appended event landed."""

    stream_id: UUID
    version: int
    position: int
    transaction_id: int


class AppendResult(msgspec.Struct, frozen=True):
    """The outcome of an append; replayed when an idempotency key matched an earlier one."""

    events: list[Appended]
    replayed: bool = False

    @property
    def versions(self) -> dict[UUID, int]:
        """The new version of each stream."""
        out: dict[UUID, int] = {}
        for e in self.events:
            out[e.stream_id] = max(e.version, out.get(e.stream_id, 0))
        return out

    @property
    def last(self) -> Checkpoint:
        """The checkpoint a reader must reach to have seen this append."""
        return max(Checkpoint(e.transaction_id, e.position) for e in self.events)


class Page(msgspec.Struct, frozen=True):
    """A page of the global log and the checkpoint to continue from."""

    events: list[RecordedEvent]
    checkpoint: Checkpoint


class StreamInfo(msgspec.Struct, frozen=True):
    """Metadata of one stream."""

    stream_id: UUID
    stream_type: str
    version: int
    created_at: datetime
    updated_at: datetime
