"""The database's passing trouble (here a statement timeout behind a lock) is retried and shown
as `retrying`, never blamed on an event; an event that fails alone still stops its view."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from projections.status import ProjectionStatus, statuses
from tests.eventstore.helpers import CTX
from tests.faults.conftest import start
from tests.faults.views import Writer, caught_up, leader_pids
from tests.faults.workers import Worker, poll
from tracker.eventstore import EventStore, NewEvent, StreamAppend

VIEWS = "commitment_views_v6"
TABLES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
WHERE schemaname = $1
"""


async def status_of(pool: asyncpg.Pool, name: str) -> ProjectionStatus:
    return next(s for s in await statuses(pool) if s.name == name and s.live)


async def test_a_timeout_is_retried_as_retrying_and_a_bad_event_still_fails_at_itself(
    fault_url: str, fault_pool: asyncpg.Pool, workers: list[Worker], tmp_path: Path
) -> None:
    pool, writer = fault_pool, Writer(fault_pool, seed=17)
    worker = start(workers, fault_url, tmp_path, "w", statement_timeout_seconds="0.5")
    await worker.said("running projections")
    await poll(lambda: _leads(pool, worker.pid), 10)
    await writer.write(40)
    await poll(lambda: caught_up(pool), 10)

    # Another session holds the views' tables: the worker's next batch waits for them until
    # its statement times out. EXCLUSIVE, not ACCESS EXCLUSIVE: that one is written to the WAL
    # and takes a transaction id, which would hold the log back instead.
    blocker = await asyncpg.connect(fault_url)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        tables = [r[0] for r in await blocker.fetch(TABLES, f"{VIEWS}_g1")]
        await blocker.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        await writer.write(40)

        async def retrying() -> bool:
            return (await status_of(pool, VIEWS)).state == "retrying"

        await poll(retrying, 15, f"never retrying:\n{worker.output()}")
        shown = await status_of(pool, VIEWS)
        assert "statement timeout" in (shown.retrying_error or "")
        await transaction.rollback()
    finally:
        await blocker.close()

    await poll(lambda: caught_up(pool), 15)

    async def running() -> bool:
        return (await status_of(pool, VIEWS)).state == "running"

    await poll(running, 10)
    recovered = await status_of(pool, VIEWS)
    assert recovered.error is None and recovered.failed_position is None
    assert recovered.retrying_error is None

    # A commitment.made the views cannot read fails alone, on a healthy database: that event.
    bad = await EventStore(pool).append(
        StreamAppend(
            stream_id=uuid.uuid4(),
            stream_type="commitment",
            expected_version=0,
            events=[NewEvent(type="commitment.made", payload={"unexpected": True})],
        ),
        context=CTX,
    )
    await writer.write(10)

    async def failed() -> bool:
        return (await status_of(pool, VIEWS)).state == "failed"

    await poll(failed, 15)
    stopped = await status_of(pool, VIEWS)
    assert stopped.failed_position == bad.events[0].position
    assert worker.process.poll() is None  # the worker carries on with the other views


async def _leads(pool: asyncpg.Pool, pid: int) -> bool:
    return await leader_pids(pool, [VIEWS]) == {pid}
