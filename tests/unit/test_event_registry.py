"""The published language: every event has one stable name and a payload the store can keep."""

import dataclasses
import re
import types
import typing
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate

from tracker.domain import EVENT_TYPES, STREAM_TYPES, TYPE_NAMES, Commitment

ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
SCALARS = {str, int, bool, type(None), UUID, date, datetime}
# The library's own bases, which no command triggers.
LIBRARY_BASES = {"Event", "Created"}


def event_classes(aggregate: type[Aggregate]) -> list[type]:
    return [
        value
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, CanMutateAggregate)
        and name not in LIBRARY_BASES
    ]


ALL_EVENTS = [cls for aggregate in STREAM_TYPES for cls in event_classes(aggregate)]


def payload_fields(cls: type) -> dict[str, typing.Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in ENVELOPE}


def storable(annotation: typing.Any) -> bool:
    """Whether msgspec stores and restores the type exactly, by its annotation."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in SCALARS:
        return True
    if origin in (typing.Union, types.UnionType):
        return all(storable(a) for a in arguments)
    if origin is tuple:
        return arguments[1:] == (Ellipsis,) and storable(arguments[0])
    if origin is list:
        return storable(arguments[0])
    if origin is dict:
        return arguments[0] is str and storable(arguments[1])
    if dataclasses.is_dataclass(annotation):
        params = annotation.__dataclass_params__  # type: ignore[union-attr]
        return params.frozen and all(storable(t) for t in payload_fields(annotation).values())
    return False


def sample(annotation: typing.Any) -> typing.Any:
    """A value of the annotated type, for a round trip."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    values = {
        str: "text",
        int: 7,
        bool: True,
        UUID: uuid4(),
        date: date(2025, 3, 3),
        datetime: datetime(2025, 3, 3, 9, 30, tzinfo=UTC),
    }
    if annotation in values:
        return values[annotation]
    if origin in (typing.Union, types.UnionType):
        return sample(arguments[0])
    if origin is tuple:
        return (sample(arguments[0]),)
    return annotation(**{n: sample(t) for n, t in payload_fields(annotation).items()})


def test_every_event_class_of_every_aggregate_is_registered():
    unregistered = [cls.__qualname__ for cls in ALL_EVENTS if cls not in TYPE_NAMES]

    assert unregistered == []
    assert len(EVENT_TYPES) == len(ALL_EVENTS)


def test_type_names_are_unique():
    assert len(set(EVENT_TYPES.values())) == len(EVENT_TYPES)
    assert len(TYPE_NAMES) == len(EVENT_TYPES)


@pytest.mark.parametrize("name", EVENT_TYPES)
def test_a_type_name_is_its_stream_type_and_a_past_tense_snake_case_verb(name):
    cls = EVENT_TYPES[name]
    [owner] = [a for a in STREAM_TYPES if cls in event_classes(a)]

    assert re.fullmatch(r"[a-z]+\.[a-z_]+", name)
    assert name.split(".")[0] == STREAM_TYPES[owner]


def test_registered_classes_are_the_aggregates_own_which_apply_themselves():
    for cls in EVENT_TYPES.values():
        assert any(cls in vars(aggregate).values() for aggregate in STREAM_TYPES)


def test_every_aggregate_has_a_stream_type():
    assert sorted(STREAM_TYPES.values()) == [
        "agreement",
        "commitment",
        "forum",
        "leader",
        "meeting",
        "organisation",
        "purpose",
    ]


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda cls: cls.__qualname__)
def test_every_payload_field_has_a_type_the_store_keeps_exactly(cls):
    unstorable = {n: t for n, t in payload_fields(cls).items() if not storable(t)}

    assert unstorable == {}


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda cls: cls.__qualname__)
def test_every_payload_round_trips_through_json_by_its_annotations(cls):
    fields = payload_fields(cls)
    payload = {name: sample(annotation) for name, annotation in fields.items()}
    struct = msgspec.defstruct("Payload", list(fields.items()))

    decoded = msgspec.json.decode(msgspec.json.encode(payload), type=struct)

    assert {name: getattr(decoded, name) for name in fields} == payload


def test_a_commitment_rebuilt_from_its_events_equals_the_one_that_made_them(people, replayed):
    commitment = Commitment.make(
        uuid4(),
        forum_id=uuid4(),
        owner_id=people.owner,
        by=people.requester,
        requester_id=people.requester,
        description="Open the hospital discharge hub at weekends",
        purpose_ids=[uuid4()],
        made_on=date(2025, 3, 3),
        due_on=date(2025, 6, 30),
    )
    commitment.counter_offer(by=people.owner, due_on=date(2025, 7, 31))
    commitment.accept_counter_offer(by=people.requester)
    commitment.report_progress(by=people.owner, percent=30)
    commitment.renegotiate(by=people.owner, reason="Recruitment", due_on=date(2025, 9, 30))
    commitment.agree_renegotiation(by=people.requester)
    commitment.link_purpose(by=people.owner, purpose_id=uuid4())
    commitment.offer_handover(by=people.owner, to_id=people.successor)
    commitment.accept_handover(by=people.successor)
    commitment.complete(by=people.successor)
    commitment.dispute(by=people.requester, reason="Sundays not covered")
    commitment.complete(by=people.successor)
    commitment.acknowledge(by=people.requester)
    commitment.comment(by=people.stranger, text="Well done")
    commitment.correct_record(by=people.requester, reason="Typo", due_on=date(2025, 9, 29))
    copy = replayed(commitment)

    assert copy == commitment
    assert copy.version == 15
    assert (copy.status, copy.owner_id) == ("acknowledged", people.successor)
    assert (copy.original_due_on, copy.due_on) == (date(2025, 6, 30), date(2025, 9, 29))
    assert (copy.asked_for[1], copy.agreed) == (
        date(2025, 6, 30),
        (copy.description, date(2025, 7, 31)),
    )
    assert copy.renegotiation_count == 1
