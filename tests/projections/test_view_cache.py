"""The view cache serves a view again only while its projections and its moment still hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
