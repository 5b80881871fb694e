"""The view cache serves a view again only while its projections and its moment still hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg

from projections.queries.cache import Fresh, ViewCache
from tests.eventstore.helpers import CTX, to_stream
from tests.projections.probe import Probe
from tests.projections.test_runner import runner_for
from tracker.eventstore import EventStore

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
READS = (Probe.name,)


class Computes:
    """A view that counts how often it is computed."""

    def __init__(self, changes_at: datetime | None = None, size: int = 10) -> None:
        self.calls, self.changes_at, self.size = 0, changes_at, size

    async def __call__(self) -> Fresh[str]:
        self.calls += 1
        return Fresh(f"computed {self.calls}", self.size, self.changes_at)


async def test_a_view_is_served_again_until_a_projection_moves(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    runner = runner_for(store, database_url, Probe())
    await runner.ensure()
    await store.append(to_stream(), context=CTX)
    await runner.run_until_caught_up()
    cache, view = ViewCache(pool), Computes()
    assert await cache.view("k", T0, view, READS) == "computed 1"
    assert await cache.view("k", T0 + timedelta(hours=1), view, READS) == "computed 1"
    assert view.calls == 1
    await store.append(to_stream(), context=CTX)
    # The probe has not applied it yet: its rows, and so the view, are as they were.
    assert await cache.view("k", T0, view, READS) == "computed 1"
    await runner.run_until_caught_up()
    assert await cache.view("k", T0, view, READS) == "computed 2"
    assert await cache.view("k", T0, view, READS) == "computed 2"


async def test_a_view_is_computed_again_from_the_moment_it_says_it_changes(
    pool: asyncpg.Pool,
) -> None:
    cache, view = ViewCache(pool), Computes(changes_at=T0 + timedelta(hours=1))
    assert await cache.view("k", T0, view, READS) == "computed 1"
    just_before = T0 + timedelta(minutes=59, seconds=59)
    assert await cache.view("k", just_before, view, READS) == "computed 1"
    assert await cache.view("k", T0 + timedelta(hours=1), view, READS) == "computed 2"
    # A moment before the one it was computed at (a clock set back) is not served either.
    assert await cache.view("k", T0 + timedelta(minutes=30), view, READS) == "computed 3"


async def test_keys_are_apart_and_nothing_found_is_not_kept(pool: asyncpg.Pool) -> None:
    cache, first, second = ViewCache(pool), Computes(), Computes()
    assert await cache.view("first", T0, first, READS) == "computed 1"
    assert await cache.view("second", T0, second, READS) == "computed 1"
    missing = 0

    async def nothing() -> Fresh[str] | None:
        nonlocal missing
        missing += 1
        return None

    assert await cache.view("missing", T0, nothing, READS) is None
    assert await cache.view("missing", T0, nothing, READS) is None
    assert (first.calls, second.calls, missing) == (1, 1, 2)


async def test_the_least_recently_used_view_leaves_first_when_memory_runs_out(
    pool: asyncpg.Pool,
) -> None:
    cache = ViewCache(pool, max_bytes=25)
    views = {key: Computes(size=10) for key in "abc"}
    await cache.view("a", T0, views["a"], READS)
    await cache.view("b", T0, views["b"], READS)
    await cache.view("a", T0, views["a"], READS)  # a is now the most recently used
    await cache.view("c", T0, views["c"], READS)  # 30 bytes: b leaves
    for key in "cab":
        await cache.view(key, T0, views[key], READS)
    assert {key: v.calls for key, v in views.items()} == {"a": 1, "b": 2, "c": 1}
    too_big = Computes(size=26)
    await cache.view("big", T0, too_big, READS)
    await cache.view("big", T0, too_big, READS)
    assert too_big.calls == 2


class StateReads:
    """The cache's pool, counting the reads of the projections' state as they finish."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.count = 0
        self._read = asyncio.Event()

    async def fetchval(self, query: str, *args: Any) -> Any:
        value = await self.pool.fetchval(query, *args)
        # No await between here and the reader's look for a computation under way, so the
        # reader is waiting on it (or computing) by the time the test hears of this read.
        self.count += 1
        self._read.set()
        return value

    async def until(self, count: int, seconds: float = 10.0) -> None:
        """Wait until count reads of the state have finished; fail if they do not."""
        try:
            async with asyncio.timeout(seconds):
                while self.count < count:
                    self._read.clear()
                    await self._read.wait()
        except TimeoutError:
            raise AssertionError(f"{self.count} of {count} reads of the state") from None


def counted_cache(pool: asyncpg.Pool) -> tuple[ViewCache, StateReads]:
    """A view cache whose reads of the projections' state the test can wait for."""
    reads = StateReads(pool)
    return ViewCache(cast(asyncpg.Pool, reads)), reads


class Gated(Computes):
    """A view whose computation waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def __call__(self) -> Fresh[str]:
        self.started.set()
        await self.gate.wait()
        return await super().__call__()


async def test_readers_that_miss_together_wait_for_one_computation(pool: asyncpg.Pool) -> None:
    (cache, reads), view = counted_cache(pool), Gated()
    first = asyncio.ensure_future(cache.view("k", T0, view, READS))
    await view.started.wait()
    second = asyncio.ensure_future(cache.view("k", T0, view, READS))
    await reads.until(2)  # the second has read the state and found the first under way
    view.gate.set()
    assert await asyncio.gather(first, second) == ["computed 1", "computed 1"]
    assert view.calls == 1


async def test_a_reader_that_goes_away_does_not_cancel_the_others_computation(
    pool: asyncpg.Pool,
) -> None:
    (cache, reads), view = counted_cache(pool), Gated()
    first = asyncio.ensure_future(cache.view("k", T0, view, READS))
    await view.started.wait()
    second = asyncio.ensure_future(cache.view("k", T0, view, READS))
    await reads.until(2)
    first.cancel()
    view.gate.set()
    assert await second == "computed 1"
    assert first.cancelled() and view.calls == 1
    assert await cache.view("k", T0, view, READS) == "computed 1"  # and it was kept


async def test_a_failed_computation_fails_its_readers_and_is_not_kept(pool: asyncpg.Pool) -> None:
    (cache, reads), calls = counted_cache(pool), 0
    gate = asyncio.Event()

    async def failing() -> Fresh[str]:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise RuntimeError("the database went away")

    first = asyncio.ensure_future(cache.view("k", T0, failing, READS))
    await reads.until(1)  # the first has found nothing and started its computation
    second = asyncio.ensure_future(cache.view("k", T0, failing, READS))
    await reads.until(2)
    gate.set()
    for reader in await asyncio.gather(first, second, return_exceptions=True):
        assert isinstance(reader, RuntimeError)
    assert calls == 1
    assert await cache.view("k", T0, Computes(), READS) == "computed 1"
