"""A reader waiting on the log learns promptly of new events, in this process and from others."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from tests.eventstore.helpers import CTX, to_stream
from tracker.eventstore import EventStore
from tracker.eventstore.live import LogWatcher


class Observed(LogWatcher):
    """A log watcher that lets the test know once a reader waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self, seconds: float) -> bool:
        self.waiting.set()
        return await super().wait(seconds)


async def first_page_latency(reader: EventStore, writer: EventStore) -> float:
    """Seconds from an append's return to a waiting follower receiving it."""
    watcher = reader.watcher = Observed()
    follower = reader.follow()
    waiting = asyncio.ensure_future(anext(follower))
    async with asyncio.timeout(10):
        await watcher.waiting.wait()  # the follower has read the empty log and is idle
    assert not waiting.done()
    await writer.append(to_stream(), context=CTX)
    appended = time.monotonic()
    page = await waiting
    latency = time.monotonic() - appended
    await follower.aclose()
    assert len(page.events) == 1
    return latency


async def test_an_append_in_this_process_wakes_a_waiting_reader_at_once(pool: asyncpg.Pool) -> None:
    # Its poll comes only after 5 s: a page sooner than half that was woken by the append.
    # How soon is measured by bench/freshness.py, not asserted here.
    store = EventStore(pool, poll_interval=5.0)
    assert await first_page_latency(store, store) < 2.5


async def test_an_append_from_another_process_reaches_a_waiting_reader_by_its_poll(
    pool: asyncpg.Pool,
) -> None:
    # Two stores share nothing in memory, like two processes: only the poll can find the event.
    # Neither wakes the other, so a poll of 5 s would take 5 s; one of 50 ms finds it far sooner.
    reader, writer = EventStore(pool, poll_interval=0.05), EventStore(pool, poll_interval=5.0)
    assert await first_page_latency(reader, writer) < 2.5
