"""An idempotency key makes a retried append return the first result and write nothing."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.eventstore.helpers import CTX, to_stream, until_blocked_by
from tracker.application.errors import IdempotencyKeyReused
from tracker.eventstore import EventStore


async def count_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def test_a_repeat_returns_the_first_result_and_writes_nothing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream(n=2)
    first = await store.append(stream, context=CTX, idempotency_key="minutes-7")
    again = await store.append(stream, context=CTX, idempotency_key="minutes-7")
    assert not first.replayed and again.replayed
    assert again.events == first.events
    assert await count_events(pool) == 2


async def test_two_racing_attempts_with_one_key_write_once(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream(n=3)
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        first = await store.append(stream, context=CTX, idempotency_key="k", connection=conn)
        # The second attempt waits on the first's uncommitted key rather than racing past it.
        second = asyncio.create_task(store.append(stream, context=CTX, idempotency_key="k"))
        await until_blocked_by(conn, conn.get_server_pid())
        assert not second.done()
        await tx.commit()
    replay = await second
    assert replay.replayed and replay.events == first.events
    assert await count_events(pool) == 3


async def test_many_concurrent_attempts_with_one_key_write_once(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream()
    results = await asyncio.gather(
        *(store.append(stream, context=CTX, idempotency_key="same") for _ in range(8))
    )
    assert sum(not r.replayed for r in results) == 1
    assert len({tuple(r.events) for r in results}) == 1
    assert await count_events(pool) == 1


async def test_a_rolled_back_first_attempt_lets_the_retry_write(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream()
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await store.append(stream, context=CTX, idempotency_key="k", connection=conn)
        await tx.rollback()
    retry = await store.append(stream, context=CTX, idempotency_key="k")
    assert not retry.replayed
    assert await count_events(pool) == 1


async def test_the_same_key_with_a_different_body_is_refused(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append(to_stream(), context=CTX, idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused) as caught:
        await store.append(to_stream(uuid.uuid4()), context=CTX, idempotency_key="k")
    assert caught.value.key == "k"
    assert await count_events(pool) == 1
