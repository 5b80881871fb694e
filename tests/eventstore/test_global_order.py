"""Readers of the global log never skip an event, whatever order writers commit in."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import asyncpg

from tests.eventstore.helpers import CTX, read_until, to_stream
from tracker.application.errors import ConcurrencyError
from tracker.database import create_pool
from tracker.eventstore import Checkpoint, EventStore, Page, RecordedEvent


async def test_a_reader_waits_at_an_open_writers_hole_and_then_sees_everything_once(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    seen: list[RecordedEvent] = []
    checkpoint = Checkpoint()
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        # Writer A takes its transaction id and position first, then holds the transaction open.
        a = await store.append(to_stream(), context=CTX, connection=conn)
        later = [await store.append(to_stream(), context=CTX) for _ in range(10)]
        assert all(r.events[0].position > a.events[0].position for r in later)
        for _ in range(5):
            page = await store.read_all(checkpoint)
            seen.extend(page.events)
            checkpoint = page.checkpoint
        # B..K committed, but returning them now would move the checkpoint past A's hole.
        assert seen == []
        await tx.commit()
    seen.extend(await read_until(store, 11 - len(seen), checkpoint))
    positions = [e.position for e in seen]
    expected = [a.events[0].position] + [r.events[0].position for r in later]
    assert positions == expected
    assert len(set(positions)) == len(positions) == 11


async def test_events_committed_out_of_order_are_read_in_commit_safe_order(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await store.append(to_stream(), context=CTX, connection=conn)
        b = await store.append(to_stream(), context=CTX)
        page = await store.read_all()
        assert page.events == [] and page.checkpoint == Checkpoint()
        await tx.commit()
    events = await read_until(store, 2)
    assert [e.position for e in events] == [1, b.events[0].position]


async def test_read_all_can_filter_by_type(store: EventStore) -> None:
    stream = to_stream(n=3)
    await store.append(stream, context=CTX)
    page = await store.read_all(types=["other.type"])
    assert page.events == []
    await read_until(store, 3)
    page = await store.read_all(types=["thing.happened"], limit=2)
    assert [e.version for e in page.events] == [1, 2]


async def writer(
    store: EventStore, pool: asyncpg.Pool, streams: list[uuid.UUID], quota: int
) -> int:
    """Append quota events to random shared streams, sometimes inside a slow transaction."""
    rng = random.Random()
    written = 0
    while written < quota:
        stream_id = rng.choice(streams)
        n = min(rng.choice((1, 1, 1, 3, 10)), quota - written)
        head = await store.stream_info(stream_id)
        expected = head.version if head else 0
        try:
            if rng.random() < 0.3:
                async with pool.acquire() as conn, conn.transaction():
                    await store.append(
                        to_stream(stream_id, expected, n), context=CTX, connection=conn
                    )
                    await asyncio.sleep(rng.uniform(0, 0.02))
            else:
                await asyncio.sleep(rng.uniform(0, 0.005))
                await store.append(to_stream(stream_id, expected, n), context=CTX)
        except ConcurrencyError:
            continue
        written += n
    return written


async def test_soak_32_writers_and_a_live_reader_see_the_same_log(
    store: EventStore, database_url: str
) -> None:
    total, writers = 5000, 32
    streams = [uuid.uuid4() for _ in range(64)]
    followed: list[RecordedEvent] = []

    async def follow() -> None:
        async for page in store.follow(limit=200):
            followed.extend(page.events)
            if len(followed) >= total:
                return

    # Writers have a pool and store of their own, like another process: the reader polls for them.
    big_pool = await create_pool(database_url, size=24)
    writers_store = EventStore(big_pool)
    try:
        reader = asyncio.create_task(follow())
        started = time.monotonic()
        quotas = [total // writers + (1 if i < total % writers else 0) for i in range(writers)]
        counts = await asyncio.gather(
            *(writer(writers_store, big_pool, streams, q) for q in quotas)
        )
        assert sum(counts) == total
        await asyncio.wait_for(reader, timeout=30)
    finally:
        await big_pool.close()
    final = await read_until(store, total)
    assert len(final) == total
    assert await store.read_all(final[-1].checkpoint) == Page([], final[-1].checkpoint)
    assert [e.position for e in followed] == [e.position for e in final]
    assert len({e.position for e in followed}) == total
    for stream_id in streams:
        versions = [e.version for e in final if e.stream_id == stream_id]
        assert sorted(versions) == list(range(1, len(versions) + 1))
    assert time.monotonic() - started < 60
