"""What the history reads answer with, and the opaque cursor of the log's pages."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from tracker.database import MAX_BIGINT
from tracker.domain import InvalidValue
from tracker.eventstore import Checkpoint, RecordedEvent


class EventEnvelope(RecordedEvent, frozen=True):
    """An event as stored: every envelope field, the payload, and the chain hash in hex."""

    hash: str  # type: ignore[assignment]

    @classmethod
    def of(cls, e: RecordedEvent) -> EventEnvelope:
        """The envelope of a stored event."""
        fields = msgspec.structs.asdict(e)
        fields["hash"] = e.hash.hex()
        return cls(**fields)


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the log."""

    events: list[EventEnvelope]
    next_cursor: str | None
    resume_cursor: str


class StreamEvents(msgspec.Struct, frozen=True, kw_only=True):
    """A page of one stream; next_after_version is null on the last page."""

    stream_id: UUID
    stream_type: str
    version: int
    events: list[EventEnvelope]
    next_after_version: int | None


class FieldChange(msgspec.Struct, frozen=True):
    """One field of the commitment's public state, before and after a change."""

    field: str
    before: Any
    after: Any


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One change: who, when, what kind, in words, and which fields it changed.

    `actor_name` is the actor's display name: a leader's current name (null if the views do
    not know them yet), or the name of an integration or service (`integration:<name>`).
    `reason` and `note` are what the command gave, where it takes one (null otherwise).
    """

    version: int
    position: int
    type: str
    summary: str
    actor: str
    actor_name: str | None
    on_behalf_of: str | None
    on_behalf_of_name: str | None
    reason: str | None
    note: str | None
    source: str | None
    occurred_at: datetime
    recorded_at: datetime
    changes: list[FieldChange]


class CommitmentHistory(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a commitment's changes, oldest first; next_after_version is null on the last."""

    commitment_id: UUID
    forum_id: UUID
    version: int
    entries: list[HistoryEntry]
    next_after_version: int | None


def encode_cursor(checkpoint: Checkpoint) -> str:
    """An opaque token for the place after this checkpoint."""
    raw = msgspec.json.encode([checkpoint.transaction_id, checkpoint.position])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Checkpoint:
    """The checkpoint a cursor stands for; 422 for anything this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        transaction_id, position = msgspec.json.decode(raw, type=tuple[int, int])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidValue("cursor", "not a cursor this API returned") from None
    if not (0 <= transaction_id <= MAX_BIGINT and 0 <= position <= MAX_BIGINT):
        raise InvalidValue("cursor", "not a cursor this API returned")
    return Checkpoint(transaction_id, position)
