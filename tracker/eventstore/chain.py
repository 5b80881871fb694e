"""The per-stream hash chain: canonical bytes of an event, and verification."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from tracker.eventstore.envelope import RecordedEvent

GENESIS = bytes(32)

_encoder = msgspec.json.Encoder(order="sorted")


class ChainBreak(msgspec.Struct, frozen=True):
    """The first event whose stored hash does not match its recomputed one."""

    stream_id: UUID
    version: int
    position: int
    reason: str


def encode_payload(payload: Any) -> bytes:
    """Canonical JSON of a payload: sorted keys, so decode-then-encode gives the same bytes."""
    return _encoder.encode(payload)


def utc(moment: datetime) -> datetime:
    """Normalise an aware datetime to UTC; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("occurred_at must carry a time zone")
    return moment.astimezone(UTC)


def canonical_bytes(
    stream_id: str,
    stream_type: str,
    version: int,
    type: str,
    type_version: int,
    occurred_at: datetime,
    context: tuple[str | None, ...],
    payload_json: bytes,
) -> bytes:
    """The bytes that identify an event; its position and recorded_at are sealed separately.

    context is (actor, on_behalf_of, source, correlation_id, causation_id) as strings.
    """
    head = [stream_id, stream_type, version, type, type_version, occurred_at, *context]
    return _encoder.encode(head) + b"\n" + payload_json


def context_fields(
    actor: str,
    on_behalf_of: str | None,
    source: str | None,
    correlation_id: UUID | None,
    causation_id: UUID | None,
) -> tuple[str | None, ...]:
    """The envelope's who-and-why fields as they enter canonical bytes."""
    return (
        actor,
        on_behalf_of,
        source,
        None if correlation_id is None else str(correlation_id),
        None if causation_id is None else str(causation_id),
    )


def canonical_of(event: RecordedEvent) -> bytes:
    """Recompute the canonical bytes of a stored event from its row."""
    return canonical_bytes(
        str(event.stream_id),
        event.stream_type,
        event.version,
        event.type,
        event.type_version,
        utc(event.occurred_at),
        context_fields(
            event.actor,
            event.on_behalf_of,
            event.source,
            event.correlation_id,
            event.causation_id,
        ),
        encode_payload(event.payload),
    )


def chain_hash(previous: bytes, canonical: bytes) -> bytes:
    """SHA-256 of the previous hash followed by this event's canonical bytes."""
    return hashlib.sha256(previous + canonical).digest()


def verify_chain(events: Iterable[RecordedEvent]) -> ChainBreak | None:
    """Check one stream's events in version order; name the first that does not match."""
    previous = GENESIS
    expected_version = 1
    for event in events:
        if event.version != expected_version:
            return ChainBreak(
                event.stream_id,
                event.version,
                event.position,
                f"expected version {expected_version}",
            )
        if chain_hash(previous, canonical_of(event)) != event.hash:
            return ChainBreak(event.stream_id, event.version, event.position, "hash does not match")
        previous = event.hash
        expected_version += 1
    return None
