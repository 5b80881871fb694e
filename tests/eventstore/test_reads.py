"""Group reads: concurrent reads of streams' newest events share one query, each answer its own."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.eventstore.helpers import CTX, to_stream
from tracker.eventstore import EventStore


class CountingPool:
    """The real pool, counting the queries sent through fetch."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.fetches = 0

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        self.fetches += 1
        return await self.pool.fetch(*args)


async def test_concurrent_reads_share_a_query_and_each_gets_its_own_stream(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool)
    streams = [to_stream(n=i % 4 + 1) for i in range(20)]
    await store.append(*streams, context=CTX)
    counting = CountingPool(pool)
    store._reader.pool = counting  # type: ignore[assignment]
    read = await asyncio.gather(*(store.read_stream(s.stream_id) for s in streams))
    assert counting.fetches < len(streams)
    for stream, events in zip(streams, read, strict=True):
        assert [e.stream_id for e in events] == [stream.stream_id] * len(stream.events)
        assert [e.payload for e in events] == [e.payload for e in stream.events]


async def test_readers_of_one_stream_from_different_versions_get_their_own_slices(
    store: EventStore,
) -> None:
    stream = to_stream(n=5)
    await store.append(stream, context=CTX)
    whole, tail, none = await asyncio.gather(
        store.read_stream(stream.stream_id),
        store.read_stream(stream.stream_id, from_version=4),
        store.read_stream(stream.stream_id, from_version=6),
    )
    assert [e.version for e in whole] == [1, 2, 3, 4, 5]
    assert [e.version for e in tail] == [4, 5]
    assert none == []


async def test_a_read_sees_every_append_acknowledged_before_it(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream()
    await store.append(stream, context=CTX)
    gate = asyncio.Event()
    held = HeldPool(pool, gate)
    store._reader.pool = held  # type: ignore[assignment]
    # A query that has run but not answered yet, as if the network were slow...
    early = asyncio.create_task(store.read_stream(stream.stream_id))
    await held.answered.wait()
    # ...must not answer a read asked for after this append was acknowledged.
    await store.append(to_stream(stream.stream_id, expected=1), context=CTX)
    late = asyncio.create_task(store.read_stream(stream.stream_id))
    await asyncio.sleep(0.05)
    gate.set()
    assert [e.version for e in await early] == [1]
    assert [e.version for e in await late] == [1, 2]


class HeldPool(CountingPool):
    """The real pool, holding each answer until a gate opens."""

    def __init__(self, pool: asyncpg.Pool, gate: asyncio.Event) -> None:
        super().__init__(pool)
        self.gate = gate
        self.answered = asyncio.Event()

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        rows = await super().fetch(*args)
        self.answered.set()
        await self.gate.wait()
        return rows


async def test_a_reader_giving_up_does_not_cancel_the_others(store: EventStore) -> None:
    stream = to_stream(n=3)
    await store.append(stream, context=CTX)
    readers = [asyncio.create_task(store.read_stream(stream.stream_id)) for _ in range(5)]
    await asyncio.sleep(0)
    readers[0].cancel()
    outcomes = await asyncio.gather(*readers, return_exceptions=True)
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert all(isinstance(o, list) and len(o) == 3 for o in outcomes[1:])


async def test_a_failed_query_fails_its_readers_and_the_next_read_works(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream(n=2)
    await store.append(stream, context=CTX)
    store._reader.query = "SELECT $1::uuid[], $2::int[] FROM no_such_table"
    with pytest.raises(asyncpg.UndefinedTableError):
        await asyncio.gather(*(store.read_stream(stream.stream_id) for _ in range(3)))
    store._reader.query = EventStore(pool)._reader.query
    assert len(await store.read_stream(stream.stream_id)) == 2
