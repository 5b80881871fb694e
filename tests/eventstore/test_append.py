"""Appending and reading back: envelopes, versions, conflicts, atomicity."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.eventstore.helpers import CTX, read_until, to_stream, until_blocked_by
from tracker.application.errors import ConcurrencyError
from tracker.eventstore import Checkpoint, Context, EventStore, NewEvent, StreamAppend


async def test_every_envelope_field_round_trips(store: EventStore) -> None:
    stream_id, correlation, causation = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    occurred = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    context = Context(
        actor="api_client:minutes-tool",
        on_behalf_of="leader:amina",
        source="meeting:42",
        correlation_id=correlation,
        causation_id=causation,
    )
    payload = {
        "title": "Open a warm hub",
        "due_on": "2026-04-01",
        "tags": ["winter", "hub"],
        "n": 3,
    }
    # recorded_at is the database's transaction time, so it is checked against the database's clock.
    before = await store.pool.fetchval("SELECT clock_timestamp()")
    result = await store.append(
        StreamAppend(
            stream_id=stream_id,
            stream_type="commitment",
            expected_version=0,
            events=[
                NewEvent(
                    type="commitment.made", payload=payload, type_version=2, occurred_at=occurred
                )
            ],
        ),
        context=context,
    )
    [stored] = await store.read_stream(stream_id)
    [from_log] = await read_until(store, 1)
    assert stored == from_log
    assert (stored.stream_id, stored.stream_type, stored.version) == (stream_id, "commitment", 1)
    assert (stored.type, stored.type_version, stored.payload) == ("commitment.made", 2, payload)
    assert stored.occurred_at == occurred
    assert before <= stored.recorded_at <= await store.pool.fetchval("SELECT clock_timestamp()")
    assert (stored.actor, stored.on_behalf_of, stored.source) == (
        "api_client:minutes-tool",
        "leader:amina",
        "meeting:42",
    )
    assert (stored.correlation_id, stored.causation_id) == (correlation, causation)
    assert len(stored.hash) == 32
    assert result.events[0].position == stored.position
    assert result.last == Checkpoint(stored.transaction_id, stored.position)


async def test_reading_a_stream_to_a_version_stops_there(store: EventStore) -> None:
    stream = to_stream(n=5)
    await store.append(stream, context=CTX)
    events = await store.read_stream(stream.stream_id, to_version=3)
    assert [e.version for e in events] == [1, 2, 3]
    assert [e.payload["n"] for e in events] == [1, 2, 3]
    assert await store.read_stream(uuid.uuid4()) == []


async def test_stream_info_reports_type_and_version(store: EventStore) -> None:
    stream = to_stream(n=3)
    await store.append(stream, context=CTX)
    info = await store.stream_info(stream.stream_id)
    assert info is not None
    assert (info.stream_type, info.version) == ("thing", 3)
    assert await store.stream_info(uuid.uuid4()) is None


async def test_append_returns_new_versions_and_positions(store: EventStore) -> None:
    first = await store.append(to_stream(n=2), context=CTX)
    stream_id = first.events[0].stream_id
    second = await store.append(to_stream(stream_id, expected=2, n=3), context=CTX)
    assert second.versions == {stream_id: 5}
    assert [e.version for e in second.events] == [3, 4, 5]
    positions = [e.position for e in first.events + second.events]
    assert positions == sorted(positions) and len(set(positions)) == 5


async def test_a_stale_expected_version_is_refused_and_writes_nothing(store: EventStore) -> None:
    stream = to_stream(n=2)
    await store.append(stream, context=CTX)
    for expected in (0, 1, 3):
        with pytest.raises(ConcurrencyError) as caught:
            await store.append(to_stream(stream.stream_id, expected=expected), context=CTX)
        assert (caught.value.stream_id, caught.value.current) == (stream.stream_id, 2)
        assert caught.value.expected == expected
    assert len(await store.read_stream(stream.stream_id)) == 2


async def test_two_concurrent_appends_at_one_version_exactly_one_wins(store: EventStore) -> None:
    stream_id = uuid.uuid4()
    await store.append(to_stream(stream_id, n=1), context=CTX)
    outcomes = await asyncio.gather(
        *(store.append(to_stream(stream_id, expected=1), context=CTX) for _ in range(2)),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert len(errors) == 1 and errors[0].current == 2
    assert [e.version for e in await store.read_stream(stream_id)] == [1, 2]


async def test_a_writer_waiting_on_an_open_rival_gets_the_conflict_after_it_commits(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream_id = uuid.uuid4()
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await store.append(to_stream(stream_id), context=CTX, connection=conn)
        # The rival passes the head check (it cannot see our row) and waits on the unique key.
        rival = asyncio.create_task(store.append(to_stream(stream_id), context=CTX))
        await until_blocked_by(conn, conn.get_server_pid())
        assert not rival.done()
        await tx.commit()
    with pytest.raises(ConcurrencyError) as caught:
        await rival
    assert caught.value.current == 1
    assert [e.version for e in await store.read_stream(stream_id)] == [1]


async def test_a_multi_stream_append_is_all_or_nothing(store: EventStore) -> None:
    existing = to_stream(n=1)
    await store.append(existing, context=CTX)
    fresh = to_stream()
    with pytest.raises(ConcurrencyError) as caught:
        await store.append(fresh, to_stream(existing.stream_id, expected=0), context=CTX)
    assert caught.value.stream_id == existing.stream_id
    assert await store.read_stream(fresh.stream_id) == []
    assert len(await store.read_stream(existing.stream_id)) == 1


async def test_a_multi_stream_append_lands_in_one_transaction(store: EventStore) -> None:
    a, b, c = to_stream(n=2), to_stream(n=1), to_stream(n=3)
    result = await store.append(a, b, c, context=CTX)
    assert result.versions == {a.stream_id: 2, b.stream_id: 1, c.stream_id: 3}
    assert len({e.transaction_id for e in result.events}) == 1


async def test_naive_occurred_at_is_refused(store: EventStore) -> None:
    stream = StreamAppend(
        stream_id=uuid.uuid4(),
        stream_type="thing",
        expected_version=0,
        events=[NewEvent(type="thing.happened", payload={}, occurred_at=datetime(2026, 1, 1))],
    )
    with pytest.raises(ValueError, match="time zone"):
        await store.append(stream, context=CTX)
