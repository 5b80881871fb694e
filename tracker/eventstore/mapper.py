"""Map `eventsourcing` aggregate events to stored envelopes and back, and load aggregates."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from eventsourcing.domain import Aggregate, CanMutateProtocol
from eventsourcing.utils import get_topic

from tracker.eventstore.envelope import NewEvent, RecordedEvent, StreamAppend

# Kept in envelope columns, not in the payload: the library's Mapper does the same, and these
# annotations are generic type variables that msgspec cannot decode.
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)


class UnknownEventType(Exception):
    """A stored event's type name is not in the registry."""


class _EventCodec:
    """How one event class is encoded and decoded."""

    def __init__(self, cls: type, name: str, aggregate: type[Aggregate]) -> None:
        self.cls = cls
        self.name = name
        self.class_version: int = getattr(cls, "class_version", 1)
        self.topic = get_topic(aggregate) if _is_created(cls) else None
        hints = typing.get_type_hints(cls)
        fields = [
            (f.name, hints[f.name], _default(f))
            for f in dataclasses.fields(cls)
            if f.name not in ENVELOPE_FIELDS
        ]
        self.names = [f[0] for f in fields]
        self.payload_type = msgspec.defstruct(f"{cls.__name__}Payload", fields, kw_only=True)

    def decode(self, record: RecordedEvent) -> CanMutateProtocol[Aggregate]:
        state = dict(record.payload)
        version = record.type_version
        while version < self.class_version:
            getattr(self.cls, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        typed = msgspec.convert(state, self.payload_type, strict=False)
        values = {name: getattr(typed, name) for name in self.names}
        values["originator_id"] = record.stream_id
        values["originator_version"] = record.version
        values["timestamp"] = record.occurred_at
        if self.topic is not None:
            values["originator_topic"] = self.topic
        event: object = object.__new__(self.cls)
        object.__setattr__(event, "__dict__", values)
        return typing.cast(CanMutateProtocol[Aggregate], event)


def _is_created(cls: type) -> bool:
    return any(f.name == "originator_topic" for f in dataclasses.fields(cls))


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return msgspec.field(default_factory=field.default_factory)
    return msgspec.NODEFAULT


class EventMapper:
    """Translate between domain events and envelopes, by stable type names."""

    def __init__(
        self, event_types: Mapping[str, type], stream_types: Mapping[type[Aggregate], str]
    ) -> None:
        self.stream_types = dict(stream_types)
        owners = {
            member: aggregate
            for aggregate in stream_types
            for member in vars(aggregate).values()
            if isinstance(member, type)
        }
        self._by_name = {
            name: _EventCodec(cls, name, owners[cls]) for name, cls in event_types.items()
        }
        self._by_class = {codec.cls: codec for codec in self._by_name.values()}

    def to_new_event(self, event: object) -> NewEvent:
        """Envelope an aggregate event: its fields become the payload."""
        codec = self._by_class[type(event)]
        state = vars(event)
        return NewEvent(
            type=codec.name,
            payload={name: state[name] for name in codec.names},
            type_version=codec.class_version,
            occurred_at=state["timestamp"],
        )

    def to_domain_event(self, record: RecordedEvent) -> CanMutateProtocol[Aggregate]:
        """Rebuild the aggregate event, upcasting older class versions on the way."""
        codec = self._by_name.get(record.type)
        if codec is None:
            raise UnknownEventType(record.type)
        return codec.decode(record)

    def pending(self, *aggregates: Aggregate) -> list[StreamAppend]:
        """Collect the new events of each aggregate as appends at its last stored version."""
        appends = []
        for aggregate in aggregates:
            events = aggregate.collect_events()
            if events:
                appends.append(
                    StreamAppend(
                        stream_id=aggregate.id,
                        stream_type=self.stream_types[type(aggregate)],
                        expected_version=events[0].originator_version - 1,
                        events=[self.to_new_event(e) for e in events],
                    )
                )
        return appends

    def rebuild(self, records: Sequence[RecordedEvent]) -> Aggregate | None:
        """Replay one stream's events into its aggregate, or None for an empty stream."""
        aggregate: Aggregate | None = None
        for record in records:
            aggregate = self.to_domain_event(record).mutate(aggregate)
        return aggregate
