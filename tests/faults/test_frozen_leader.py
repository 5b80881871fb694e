"""A leader frozen in place (SIGSTOP) loses its lease to a standby within seconds, and when it
wakes it commits nothing and stands by: every event is applied exactly once."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from projections.commitment_view import CommitmentViews
from projections.lease import LostLease
from projections.rebuild import rebuild
from projections.registry import all_projections, projection_names
from projections.runner import ProjectionRunner
from tests.eventstore.helpers import CTX, to_stream
from tests.faults.conftest import start
from tests.faults.test_connections import sessions
from tests.faults.views import Writer, applied_counts, caught_up, leader_pids
from tests.faults.workers import Worker, poll
from tests.projections.probe import Probe
from tests.projections.test_runner import snapshot
from tracker.connections import PROJECTIONS
from tracker.eventstore import EventStore

LAPSED = "SELECT expires_at <= clock_timestamp() FROM projection_leases WHERE name = $1"
LEASE_AGE = "SELECT expires_at, taken_at FROM projection_leases WHERE name = $1"


async def test_a_frozen_leader_is_replaced_and_commits_nothing_when_it_wakes(
    fault_url: str, fault_pool: asyncpg.Pool, workers: list[Worker], tmp_path: Path
) -> None:
    pool, names = fault_pool, sorted(projection_names())
    writer = Writer(pool, seed=41)
    a = start(workers, fault_url, tmp_path, "a")
    await a.said("running projections")

    async def a_leads_all() -> bool:
        return await leader_pids(pool, names) == {a.pid}

    await poll(a_leads_all, 10)
    b = start(workers, fault_url, tmp_path, "b")
    await b.said("running projections")
    # Both workers' sessions say what they are.
    assert await sessions(pool, PROJECTIONS) >= 4
    await writer.write(150)
    await poll(lambda: caught_up(pool), 10)

    a.freeze()
    # When a renewed last: its lease runs lease_seconds (3) from its last renewal.
    last_renewal = {n: (await pool.fetchrow(LEASE_AGE, n))["expires_at"] for n in names}

    async def b_leads_all() -> bool:
        return await leader_pids(pool, names) == {b.pid}

    took = await poll(b_leads_all, 10)
    taken = {n: (await pool.fetchrow(LEASE_AGE, n))["taken_at"] for n in names}
    since_renewal = max((taken[n] - last_renewal[n]).total_seconds() + 3.0 for n in names)
    print(f"takeover: {took:.2f} s after SIGSTOP, {since_renewal:.2f} s after the last renewal")
    assert took < 5.0 and since_renewal < 5.0

    await writer.write(150)  # applied by b while a sleeps
    await poll(lambda: caught_up(pool), 10)
    a.thaw()
    await a.said("lost the lease of projection")
    await writer.write(150)
    await poll(lambda: caught_up(pool), 10)

    assert a.process.poll() is None and b.process.poll() is None
    assert await b_leads_all()  # a stands by
    total = int(await pool.fetchval("SELECT count(*) FROM events"))
    # Each batch counts its events as it commits: an event applied twice would count twice.
    assert await applied_counts(pool) == dict.fromkeys(names, total)
    live = await snapshot(pool)
    runner = ProjectionRunner(
        EventStore(pool), all_projections(), lambda: asyncpg.connect(fault_url)
    )
    await rebuild(runner, CommitmentViews())
    assert await snapshot(pool) == live


async def test_a_batch_checks_its_lease_in_its_own_transaction(
    fault_url: str, fault_pool: asyncpg.Pool
) -> None:
    store, probe = EventStore(fault_pool), Probe()
    first, second = (
        ProjectionRunner(store, [probe], lambda: asyncpg.connect(fault_url), lease_seconds=0.4)
        for _ in range(2)
    )
    await first.ensure()
    conn = await asyncpg.connect(fault_url)
    try:
        await first.leases.renew_and_take(conn, [probe.name])
        assert first.leases.held == {probe.name}

        async def lapsed() -> bool:
            return bool(await conn.fetchval(LAPSED, probe.name))

        await poll(lapsed, 5)  # the first stopped renewing, as a frozen process does
        await second.leases.renew_and_take(conn, [probe.name])
        assert second.leases.held == {probe.name}
    finally:
        await conn.close()
    await store.append(to_stream(n=3), context=CTX)
    with pytest.raises(LostLease):
        await first.step(probe, leased=True)
    assert first.leases.held == set()
    assert await fault_pool.fetchval("SELECT count(*) FROM probe_seen") == 0
    assert await second.step(probe, leased=True) == 3
