"""The body of a delivery: a CloudEvents 1.0 event in JSON, whose data is the event as the log
shows it (GET /events)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from tracker.eventstore import RecordedEvent

SPEC_VERSION = "1.0"


class FeedEvent(RecordedEvent, frozen=True):
    """An event as GET /events shows it: every envelope field, and the chain hash in hex."""

    hash: str  # type: ignore[assignment]


class CloudEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A CloudEvents 1.0 event: `id` is the webhook-id, `subject` the stream, `type` the event's."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str
    data: FeedEvent


def webhook_id(event: RecordedEvent) -> str:
    """The message id, the same on every attempt and every redelivery of one event."""
    return f"msg_{event.transaction_id}_{event.position}"


def feed_event(event: RecordedEvent) -> FeedEvent:
    """The event as the log's readers see it."""
    fields = msgspec.structs.asdict(event)
    fields["hash"] = event.hash.hex()
    return FeedEvent(**fields)


def cloud_event(event: RecordedEvent, source: str) -> CloudEvent:
    """The event wrapped as a CloudEvent from this log (source is its origin)."""
    return CloudEvent(
        specversion=SPEC_VERSION,
        id=webhook_id(event),
        source=source,
        type=event.type,
        subject=str(event.stream_id),
        time=event.recorded_at,
        datacontenttype="application/json",
        data=feed_event(event),
    )


def body(event: RecordedEvent, source: str) -> bytes:
    """The delivery's body as sent and signed."""
    return msgspec.json.encode(cloud_event(event, source))


def stream_of(subject: str) -> UUID:
    """The stream a CloudEvent's subject names."""
    return UUID(subject)
