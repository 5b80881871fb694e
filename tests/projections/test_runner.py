"""The runner applies every event exactly once, survives crashes and failures, hands over."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from projections.base import Projection
from projections.commitment_view import CommitmentViews
from projections.rebuild import RebuildRunning, rebuild
from projections.runner import REBUILD, ProjectionRunner
from projections.status import statuses
from tests.eventstore.helpers import CTX, to_stream
from tests.projections.history import History
from tests.projections.probe import Probe
from tracker.database import Connection, create_pool
from tracker.eventstore import EventStore, NewEvent, RecordedEvent, StreamAppend
from tracker.eventstore.repository import Repository


def runner_for(
    store: EventStore, url: str, *projections: Projection, **options: Any
) -> ProjectionRunner:
    return ProjectionRunner(store, projections, lambda: asyncpg.connect(url), **options)


async def probe_rows(pool: asyncpg.Pool) -> list[int]:
    return [r[0] for r in await pool.fetch("SELECT position FROM probe_seen ORDER BY position")]


async def all_positions(pool: asyncpg.Pool) -> list[int]:
    return [r[0] for r in await pool.fetch("SELECT position FROM events ORDER BY position")]


async def snapshot(pool: asyncpg.Pool, schema: str = "public") -> dict[str, list[Any]]:
    """Every row of the commitment views (published, or in one generation's schema, with
    their history)."""
    out = {}
    tables = [
        ("commitments", "commitment_id"),
        ("commitment_changes", "commitment_id, version"),
        ("forums", "forum_id"),
        ("leader_organisations", "leader_id"),
    ]
    if schema != "public":
        tables += [
            ("commitments_history", "commitment_id, opened_tx, opened_pos"),
            ("purpose_commitments_history", "purpose_id, commitment_id, opened_tx, opened_pos"),
        ]
    for table, key in tables:
        sql = f"SELECT to_jsonb(t) FROM {schema}.{table} t ORDER BY {key}"
        out[table] = [r[0] for r in await pool.fetch(sql)]
    return out


class Crash(Exception):
    """Stands in for the process dying mid-batch."""


class CrashingConnection:
    """Passes statements through until the chosen one, then dies like a lost connection."""

    def __init__(self, conn: Connection, after: int) -> None:
        self._conn, self._left = conn, after

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._conn, name)
        if name not in ("execute", "fetch", "fetchrow", "fetchval"):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._left -= 1
            if self._left < 0:
                raise asyncpg.InterfaceError("injected crash between statements")
            return await attribute(*args, **kwargs)

        return call


class PrivateViews(CommitmentViews):
    """The real commitment views under a name of their own, unpublished, so the service's
    own runner (running in API tests of the same session) never touches them."""

    name = "private_commitment_views_v5"
    tables = ()


class CrashingViews(PrivateViews):
    """The private views, dying after a given number of statements in a batch."""

    def __init__(self, after: int) -> None:
        self.after = after

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        await super().apply(CrashingConnection(conn, self.after), events)  # type: ignore[arg-type]


async def test_events_are_applied_exactly_once_across_crashes_inside_batches(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    history = History(seed=7)
    rng = random.Random(3)
    for _ in range(400):
        history.step()
        if rng.random() < 0.1:
            await history.flush(repository)
    await history.flush(repository)
    crashes = 0
    while True:
        # A batch makes up to twenty statements (four loads, four saves, the purpose links
        # unlinked and linked again, and for the history a close and an insert per table and
        # the purpose links' two): the crash falls before any one of them, or never.
        runner = runner_for(
            store, database_url, CrashingViews(rng.randint(0, 20)), batch_size=rng.randint(5, 60)
        )
        try:
            await runner.run_until_caught_up()
            break
        except asyncpg.InterfaceError:
            crashes += 1
    assert crashes > 0
    crashed = await snapshot(pool, PrivateViews().schema(1))
    generation = await rebuild(runner_for(store, database_url, PrivateViews()), PrivateViews())
    assert await snapshot(pool, PrivateViews().schema(generation)) == crashed
    assert len(crashed["commitment_changes"]) == sum(c.version for c in history.commitments)


async def test_a_handler_error_stops_that_projection_at_the_event_without_spinning(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    first = await store.append(to_stream(n=3), context=CTX)
    unreadable = StreamAppend(
        stream_id=first.events[0].stream_id,
        stream_type="thing",
        expected_version=3,
        events=[NewEvent(type="thing.unreadable", payload={})],
    )
    bad = await store.append(unreadable, context=CTX)
    await store.append(to_stream(n=2), context=CTX)
    probe, views = Probe(fail_on="thing.unreadable"), CommitmentViews()
    runner = runner_for(store, database_url, probe, views)
    await runner.run_until_caught_up()
    assert await probe_rows(pool) == [e.position for e in first.events]
    [status] = [s for s in await statuses(pool) if s.name == "probe_v1"]
    assert status.state == "failed" and status.failed_position == bad.events[0].position
    assert "cannot handle thing.unreadable" in (status.error or "")
    assert await runner.step(probe) == 0  # stopped: it neither advances nor retries
    [other] = [s for s in await statuses(pool) if s.name == "commitment_views_v6"]
    assert other.state != "failed" and other.lag_events == 0


async def test_a_standby_runner_takes_over_from_the_checkpoint(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    first, second = asyncio.Event(), asyncio.Event()
    a = runner_for(store, database_url, Probe(), takeover_seconds=0.05)
    b = runner_for(store, database_url, Probe(), takeover_seconds=0.05)
    task_a = asyncio.create_task(a.run(first, poll_seconds=0.01))
    await wait_for(lambda: led(pool, Probe.name))  # a leads before b starts
    task_b = asyncio.create_task(b.run(second, poll_seconds=0.01))
    for _ in range(5):
        await store.append(to_stream(n=4), context=CTX)
    await wait_for(lambda: probe_caught_up(pool))
    first.set()
    await task_a  # a stops and releases its lease
    for _ in range(5):
        await store.append(to_stream(n=4), context=CTX)
    await wait_for(lambda: probe_caught_up(pool))
    second.set()
    await task_b
    assert await probe_rows(pool) == await all_positions(pool)


async def test_a_runner_whose_connections_are_cut_reconnects_and_carries_on(
    pool: asyncpg.Pool, database_url: str
) -> None:
    # The runner's connections carry a name of their own, so that only they are cut.
    url = database_url + ("&" if "?" in database_url else "?") + "application_name=cut-me"
    own = await create_pool(url, size=2)
    try:
        runner = runner_for(EventStore(own), url, Probe(), takeover_seconds=0.05)
        await runner.ensure()
        stop = asyncio.Event()
        running = asyncio.create_task(runner.run(stop, poll_seconds=0.01))
        store = EventStore(pool)
        await store.append(to_stream(n=2), context=CTX)
        await wait_for(lambda: probe_caught_up(pool))
        # A restarted server or a network cut, again and again, so that some cuts land in the
        # middle of the runner's queries: its pool and its leadership connection both go.
        for _ in range(20):
            await store.append(to_stream(n=2), context=CTX)
            await pool.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'cut-me'"
            )
            await asyncio.sleep(random.uniform(0, 0.02))
        await wait_for(lambda: probe_caught_up(pool))
        assert not running.done()
        stop.set()
        await running
        assert await probe_rows(pool) == await all_positions(pool)
    finally:
        await own.close()


async def led(pool: asyncpg.Pool, projection: str) -> bool:
    """Whether some runner holds a live lease of the projection in this database."""
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT FROM projection_leases"
            " WHERE name = $1 AND expires_at > clock_timestamp())",
            projection,
        )
    )


async def probe_caught_up(pool: asyncpg.Pool) -> bool:
    return await probe_rows(pool) == await all_positions(pool)


async def wait_for(check: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_rebuild_switches_reads_over_and_refuses_to_run_twice(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    history = History(seed=11)
    for _ in range(200):
        history.step()
    await history.flush(repository)
    runner = runner_for(store, database_url, CommitmentViews())
    await runner.run_until_caught_up()
    live = await snapshot(pool)
    async with pool.acquire() as other:
        assert await other.fetchval(
            "SELECT pg_try_advisory_lock($1, hashtext($2))", REBUILD, "commitment_views_v6"
        )
        with pytest.raises(RebuildRunning):
            await rebuild(runner, CommitmentViews())
        await other.fetchval(
            "SELECT pg_advisory_unlock($1, hashtext($2))", REBUILD, "commitment_views_v6"
        )
    seen: list[int] = []

    def interrupt(done: int, total: int, elapsed: float) -> None:
        seen.append(done)
        if len(seen) == 1:
            raise KeyboardInterrupt

    runner.batch_size = 50
    with pytest.raises(KeyboardInterrupt):
        await rebuild(runner, CommitmentViews(), interrupt)
    assert await snapshot(pool) == live  # reads still come from the live generation
    generation = await rebuild(runner, CommitmentViews(), interrupt)
    assert generation == 2 and await snapshot(pool) == live
    names = await pool.fetch(
        "SELECT generation, state FROM projection_generations WHERE name = 'commitment_views_v6'"
    )
    assert [tuple(r) for r in names] == [(2, "live")]
