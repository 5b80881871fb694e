"""Every session the service opens names its role in pg_stat_activity and carries the
configured time limits; long work lifts the statement limit on purpose."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from projections.registry import projection_runner
from tests.faults.workers import poll
from tracker.api.app import create_app
from tracker.connections import API, CLI, PROJECTIONS, connect, session_settings
from tracker.database import create_pool
from tracker.eventstore import EventStore
from tracker.settings import Settings

SESSIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1
"""
LIMITS = Settings(statement_timeout_seconds=7, idle_in_transaction_seconds=11)


async def sessions(pool: asyncpg.Pool, role: str) -> int:
    return int(await pool.fetchval(SESSIONS, role))


async def test_the_api_and_the_projection_runner_name_their_sessions(
    fault_url: str, fault_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    # The workers' own sessions are looked for in test_frozen_leader, beside real workers.
    runner = projection_runner(LIMITS, EventStore(fault_pool), fault_url)
    lease_conn = await runner.connect()
    try:
        assert await lease_conn.fetchval("SHOW application_name") == PROJECTIONS
        # It also builds new projections from the whole log: no statement limit.
        assert await lease_conn.fetchval("SHOW statement_timeout") == "0"
        assert await lease_conn.fetchval("SHOW idle_in_transaction_session_timeout") == "11s"
    finally:
        await lease_conn.close()
    app = create_app(
        Settings(database_url=fault_url, run_projections=False, seal_seconds=0, data_dir=tmp_path)
    )
    async with AsyncTestClient(app):
        assert await sessions(fault_pool, API) >= 1
    assert await sessions(fault_pool, CLI) >= 1  # the tests' own pool


async def test_a_pool_carries_its_roles_limits(fault_url: str, fault_pool: asyncpg.Pool) -> None:
    pool = await create_pool(fault_url, size=1, role=API, settings=LIMITS)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") == API
            assert await conn.fetchval("SHOW statement_timeout") == "7s"
            assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == "11s"
            # Short statements are never held up compiling themselves.
            assert await conn.fetchval("SHOW jit") == "off"
            assert await conn.fetchval("SHOW random_page_cost") == "1.1"
    finally:
        await pool.close()
    # A name given in the URL is the operator's choice, and wins.
    named = fault_url + ("&" if "?" in fault_url else "?") + "application_name=mine"
    pool = await create_pool(named, size=1, role=API, settings=LIMITS)
    try:
        assert await pool.fetchval("SHOW application_name") == "mine"
        assert await pool.fetchval("SHOW statement_timeout") == "7s"
    finally:
        await pool.close()
    # The command line's long work (rebuilds, imports, verification) has no statement limit.
    async with fault_pool.acquire() as conn:
        assert await conn.fetchval("SHOW statement_timeout") == "0"
    # Keepalives are asked for on every session (a Unix socket, as here, reads them as 0).
    assert session_settings(API, LIMITS)["tcp_keepalives_idle"] == "30"


async def test_a_long_statement_is_cancelled_and_an_idle_transaction_ended(
    fault_url: str, fault_pool: asyncpg.Pool
) -> None:
    quick = Settings(statement_timeout_seconds=0.2, idle_in_transaction_seconds=0.3)
    pool = await create_pool(fault_url, size=2, role=API, settings=quick)
    try:
        with pytest.raises(asyncpg.QueryCanceledError):
            await pool.fetchval("SELECT pg_sleep(2)")
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            transaction = conn.transaction()
            await transaction.start()
            await conn.fetchval("SELECT txid_current()")

            async def ended() -> bool:
                gone = "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)"
                return bool(await fault_pool.fetchval(gone, pid))

            await poll(ended, 10)
            # The driver may still be reading the server's goodbye when asked to commit.
            ended_here = (
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
            )
            with pytest.raises(ended_here):
                await transaction.commit()
    finally:
        await pool.close()


async def test_a_missing_unix_socket_is_a_refused_connection(tmp_path: Path) -> None:
    # A server stopped cleanly removes its socket; the API answers that 503, as a refused port.
    with pytest.raises(ConnectionRefusedError, match="socket is missing"):
        await connect(f"postgresql://postgres@/tracker?host={tmp_path}", API)
