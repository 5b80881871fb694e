"""The events table is append-only, and an altered row breaks its stream's hash chain."""

from __future__ import annotations

import asyncpg
import pytest

from tests.eventstore.helpers import CTX, to_stream
from tracker.eventstore import EventStore


async def test_update_of_an_event_is_rejected(store: EventStore, pool: asyncpg.Pool) -> None:
    await store.append(to_stream(), context=CTX)
    with pytest.raises(asyncpg.PostgresError, match="append-only: UPDATE"):
        await pool.execute("UPDATE events SET actor = 'someone else'")


async def test_delete_of_an_event_is_rejected(store: EventStore, pool: asyncpg.Pool) -> None:
    await store.append(to_stream(), context=CTX)
    with pytest.raises(asyncpg.PostgresError, match="append-only: DELETE"):
        await pool.execute("DELETE FROM events")
    assert await pool.fetchval("SELECT count(*) FROM events") == 1


async def test_an_untouched_stream_verifies(store: EventStore) -> None:
    stream = to_stream(n=5)
    await store.append(stream, context=CTX)
    await store.append(to_stream(stream.stream_id, expected=5, n=2), context=CTX)
    assert await store.verify_stream(stream.stream_id) is None


async def tamper(pool: asyncpg.Pool, sql: str, *args: object) -> None:
    """What an insider with database access could do: switch the guard off, change, switch on."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


async def test_a_changed_payload_is_named_by_verification(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream(n=4)
    result = await store.append(stream, context=CTX)
    await tamper(
        pool,
        "UPDATE events SET payload = '{\"n\": 99}' WHERE stream_id = $1 AND version = 3",
        stream.stream_id,
    )
    broken = await store.verify_stream(stream.stream_id)
    assert broken is not None
    assert (broken.stream_id, broken.version) == (stream.stream_id, 3)
    assert broken.position == result.events[2].position


async def test_a_changed_actor_is_named_by_verification(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream(n=2)
    await store.append(stream, context=CTX)
    await tamper(pool, "UPDATE events SET actor = 'leader:mallory' WHERE version = 1")
    broken = await store.verify_stream(stream.stream_id)
    assert broken is not None and broken.version == 1


async def test_a_deleted_middle_event_is_named_by_verification(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = to_stream(n=4)
    await store.append(stream, context=CTX)
    await tamper(pool, "DELETE FROM events WHERE version = 2")
    broken = await store.verify_stream(stream.stream_id)
    assert broken is not None
    assert broken.version == 3 and "expected version 2" in broken.reason
