"""The body of a delivery: a CloudEvents 1.0 event in JSON, whose data is the event as the log
shows it (GET /events) with the display names of what it mentions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from tracker.eventstore import RecordedEvent

SPEC_VERSION = "1.0"


class FeedEvent(RecordedEvent, frozen=True):
    """An event as GET /events shows it: every envelope field, the chain hash in hex, and the
    names (id -> display name) of the leaders, forum, purposes, meeting and organisations it
    mentions, as the views name them when it is sent."""

    hash: str  # type: ignore[assignment]
    names: dict[str, str] = msgspec.field(default_factory=dict)


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


# Payload members that hold ids of leaders, forums, purposes, meetings or organisations: every
# `*_id` and `*_ids`, and the people named by, to or present.
ID_SUFFIXES = ("_id", "_ids", "_by", "_to")
ID_KEYS = frozenset({"by", "present"})


def mentioned(event: RecordedEvent) -> set[UUID]:
    """The ids an event mentions: its stream, its leader actors, and the ids in its payload's
    id members, at any depth."""
    found = {event.stream_id}
    for actor in (event.actor, event.on_behalf_of):
        _add(found, actor)
    _walk(event.payload, found)
    return found


def _walk(value: Any, found: set[UUID]) -> None:
    if isinstance(value, dict):
        for key, member in value.items():
            if isinstance(key, str) and (key.endswith(ID_SUFFIXES) or key in ID_KEYS):
                for item in member if isinstance(member, list) else [member]:
                    _add(found, item)
            else:
                _walk(member, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found)


def _add(found: set[UUID], value: Any) -> None:
    """An id, or a leader's actor string (`leader:<id>`); anything else is not an id."""
    if isinstance(value, str) and value.startswith("leader:"):
        value = value[len("leader:") :]
    if isinstance(value, str) and len(value) == 36:
        with contextlib.suppress(ValueError):  # not every such member is a UUID
            found.add(UUID(value))


def mentioned_by(events: Iterable[RecordedEvent]) -> set[UUID]:
    """Every id a batch of events mentions, looked up together."""
    return {i for event in events for i in mentioned(event)}


def feed_event(
    event: RecordedEvent, names: Mapping[str, str] | None = None, ids: set[UUID] | None = None
) -> FeedEvent:
    """The event as the log's readers see it, with the names of what it mentions (ids, if the
    caller has them already)."""
    fields = msgspec.structs.asdict(event)
    fields["hash"] = event.hash.hex()
    known = names or {}
    keys = [str(i) for i in sorted(mentioned(event) if ids is None else ids)]
    fields["names"] = {key: known[key] for key in keys if key in known}
    return FeedEvent(**fields)


def cloud_event(
    event: RecordedEvent,
    source: str,
    names: Mapping[str, str] | None = None,
    ids: set[UUID] | None = None,
) -> CloudEvent:
    """The event wrapped as a CloudEvent from this log (source is its origin)."""
    return CloudEvent(
        specversion=SPEC_VERSION,
        id=webhook_id(event),
        source=source,
        type=event.type,
        subject=str(event.stream_id),
        time=event.recorded_at,
        datacontenttype="application/json",
        data=feed_event(event, names, ids),
    )


def body(
    event: RecordedEvent,
    source: str,
    names: Mapping[str, str] | None = None,
    ids: set[UUID] | None = None,
) -> bytes:
    """The delivery's body as sent and signed."""
    return msgspec.json.encode(cloud_event(event, source, names, ids))


def stream_of(subject: str) -> UUID:
    """The stream a CloudEvent's subject names."""
    return UUID(subject)
