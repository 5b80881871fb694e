"""Aggregates from the `eventsourcing` library go into the store and come back whole."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event

from tests.eventstore.helpers import CTX
from tracker.application.ports import NotFound
from tracker.eventstore import EventStore, NewEvent, StreamAppend
from tracker.eventstore.mapper import EventMapper, UnknownEventType
from tracker.eventstore.repository import Repository


class Pledge(Aggregate):
    """A small aggregate standing in for the real domain."""

    class Made(Aggregate.Created):
        owner: UUID
        title: str
        due_on: date | None
        tags: tuple[str, ...]

    @event(Made)
    def __init__(self, owner: UUID, title: str, due_on: date | None, tags: tuple[str, ...]) -> None:
        self.owner = owner
        self.title = title
        self.due_on = due_on
        self.tags = tags
        self.progress: list[tuple[int, str]] = []

    class ProgressReported(Aggregate.Event):
        # v2 added the note; older events are upcast with an empty one.
        class_version = 2
        percent: int
        note: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["note"] = ""

    @event(ProgressReported)
    def report(self, percent: int, note: str) -> None:
        self.progress.append((percent, note))


class Other(Aggregate):
    """A second kind of stream, to tell kinds apart when loading."""

    class Started(Aggregate.Created):
        pass

    @event(Started)
    def __init__(self) -> None:
        pass


MAPPER = EventMapper(
    {
        "pledge.made": Pledge.Made,
        "pledge.progress_reported": Pledge.ProgressReported,
        "other.started": Other.Started,
    },
    {Pledge: "pledge", Other: "other"},
)


@pytest.fixture
def repository(store: EventStore) -> Repository:
    return Repository(store, MAPPER)


async def test_an_aggregate_round_trips_through_the_store(
    repository: Repository, store: EventStore
) -> None:
    owner = uuid.uuid4()
    pledge = Pledge(owner=owner, title="Warm hub", due_on=date(2026, 12, 1), tags=("winter",))
    pledge.report(percent=40, note="venue found")
    result = await repository.save(pledge, context=CTX)
    assert result.versions == {pledge.id: 2}

    loaded = await repository.get(Pledge, pledge.id)
    assert (loaded.id, loaded.version) == (pledge.id, 2)
    assert (loaded.owner, loaded.title, loaded.due_on, loaded.tags) == (
        owner,
        "Warm hub",
        date(2026, 12, 1),
        ("winter",),
    )
    assert loaded.progress == [(40, "venue found")]
    assert loaded.created_on == pledge.created_on

    stored = await store.read_stream(pledge.id)
    assert [e.type for e in stored] == ["pledge.made", "pledge.progress_reported"]
    assert stored[0].stream_type == "pledge"
    assert stored[1].type_version == 2
    assert stored[0].payload == {
        "owner": str(owner),
        "title": "Warm hub",
        "due_on": "2026-12-01",
        "tags": ["winter"],
    }


async def test_an_aggregate_loads_as_of_a_version(repository: Repository) -> None:
    pledge = Pledge(owner=uuid.uuid4(), title="t", due_on=None, tags=())
    pledge.report(percent=10, note="a")
    pledge.report(percent=20, note="b")
    await repository.save(pledge, context=CTX)
    earlier = await repository.get(Pledge, pledge.id, version=2)
    assert earlier.version == 2 and earlier.progress == [(10, "a")]


async def test_new_events_append_at_the_loaded_version(repository: Repository) -> None:
    pledge = Pledge(owner=uuid.uuid4(), title="t", due_on=None, tags=())
    await repository.save(pledge, context=CTX)
    loaded = await repository.get(Pledge, pledge.id)
    loaded.report(percent=50, note="half")
    result = await repository.save(loaded, context=CTX)
    assert result.versions == {pledge.id: 2}


async def test_a_version_1_event_is_upcast_when_loaded(
    repository: Repository, store: EventStore
) -> None:
    pledge = Pledge(owner=uuid.uuid4(), title="t", due_on=None, tags=())
    await repository.save(pledge, context=CTX)
    old = NewEvent(
        type="pledge.progress_reported",
        payload={"percent": 30},
        type_version=1,
        occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    await store.append(
        StreamAppend(stream_id=pledge.id, stream_type="pledge", expected_version=1, events=[old]),
        context=CTX,
    )
    loaded = await repository.get(Pledge, pledge.id)
    assert loaded.progress == [(30, "")]
    assert loaded.modified_on == datetime(2026, 1, 2, tzinfo=UTC)


async def test_loading_a_missing_or_different_stream_is_not_found(repository: Repository) -> None:
    other = Other()
    await repository.save(other, context=CTX)
    with pytest.raises(NotFound):
        await repository.get(Pledge, uuid.uuid4())
    with pytest.raises(NotFound) as caught:
        await repository.get(Pledge, other.id)
    assert caught.value.kind == "pledge"


async def test_an_unregistered_type_name_is_reported(
    repository: Repository, store: EventStore
) -> None:
    stream_id = uuid.uuid4()
    await store.append(
        StreamAppend(
            stream_id=stream_id,
            stream_type="pledge",
            expected_version=0,
            events=[NewEvent(type="pledge.vanished", payload={})],
        ),
        context=CTX,
    )
    with pytest.raises(UnknownEventType, match=r"pledge\.vanished"):
        await repository.get(Pledge, stream_id)
