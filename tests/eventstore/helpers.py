"""Small builders for event store tests."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from tracker.database import Connection
from tracker.eventstore import (
    START,
    Checkpoint,
    Context,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)

CTX = Context(actor="leader:tester")


def events(*types: str, **payload: Any) -> list[NewEvent]:
    """New events of the given types, each with the same payload."""
    return [NewEvent(type=t, payload=dict(payload)) for t in types]


def to_stream(stream_id: uuid.UUID | None = None, expected: int = 0, n: int = 1) -> StreamAppend:
    """An append of n numbered events to a stream at an expected version."""
    return StreamAppend(
        stream_id=stream_id or uuid.uuid4(),
        stream_type="thing",
        expected_version=expected,
        events=[
            NewEvent(type="thing.happened", payload={"n": expected + i}) for i in range(1, n + 1)
        ],
    )


async def read_until(
    store: EventStore, count: int, after: Checkpoint = START, seconds: float = 5.0
) -> list[RecordedEvent]:
    """Read the global log until count events arrive: another transaction anywhere in the
    cluster may hold the horizon back for a moment (readers pause there; they never skip)."""
    seen: list[RecordedEvent] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while len(seen) < count and asyncio.get_running_loop().time() < deadline:
        page = await store.read_all(after, limit=500)
        seen.extend(page.events)
        after = page.checkpoint
        if not page.events:
            await asyncio.sleep(0.01)
    return seen


# Asked about one holder, since the lock table is shared with every database on the server.
BLOCKED_BY = (
    "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND $1 = ANY(pg_blocking_pids(pid)))"
)


async def until_blocked_by(
    db: asyncpg.Pool | Connection, holder: int, seconds: float = 10.0
) -> None:
    """Return once another backend waits on a lock held by backend holder; fail if none does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await db.fetchval(BLOCKED_BY, holder):
        if loop.time() > deadline:
            raise AssertionError(f"nothing waited on a lock of backend {holder} in {seconds} s")
        await asyncio.sleep(0.005)
