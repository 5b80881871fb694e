"""A transaction left open anywhere on the server holds the log back: GET /projections and a
warning name the session, so that an operator can end it."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from tests.faults.views import Writer, caught_up
from tests.faults.workers import poll
from tracker import tokens
from tracker.api.app import create_app
from tracker.settings import Settings


async def test_the_session_holding_the_log_back_is_named_in_the_status_and_the_log(
    admin_url: str,
    fault_url: str,
    fault_pool: asyncpg.Pool,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(
        database_url=fault_url, seal_seconds=0, data_dir=tmp_path, horizon_warning_seconds=0.5
    )
    token = await tokens.issue(fault_pool, "operator", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    writer = Writer(fault_pool, seed=23)
    async with AsyncTestClient(create_app(settings)) as client:
        # The app configures logging as it starts, replacing the root logger's handlers, so
        # the capture listens on the runner's own logger.
        horizon_log = logging.getLogger("projections.horizon")
        horizon_log.addHandler(caplog.handler)
        # Another database on the same server: transaction ids are server-wide.
        stuck = await asyncpg.connect(
            admin_url, server_settings={"application_name": "stuck-report"}
        )
        try:
            transaction = stuck.transaction()
            await transaction.start()
            await stuck.fetchval("SELECT txid_current()")
            pid = await stuck.fetchval("SELECT pg_backend_pid()")
            database = await stuck.fetchval("SELECT current_database()")
            await writer.write(20)

            async def named() -> bool:
                answer = (await client.get("/projections", headers=headers)).json()
                return any(
                    (s["held_back_by"] or {}).get("pid") == pid and s["lag_events"] > 0
                    for s in answer
                )

            await poll(named, 10)
            answer = (await client.get("/projections", headers=headers)).json()
            blocker = next(s["held_back_by"] for s in answer if s["held_back_by"])
            assert blocker["application_name"] == "stuck-report"
            assert blocker["database"] == database
            assert blocker["state"] == "idle in transaction"
            assert blocker["transaction_age_seconds"] >= 0.5

            async def warned() -> bool:
                return any(f"pid {pid}," in r.getMessage() for r in caplog.records)

            await poll(warned, 10)
            # The capture may hear a record twice (on the runner's logger and the root's): one
            # record, one line.
            records = dict.fromkeys(r for r in caplog.records if f"pid {pid}," in r.getMessage())
            [line] = [r.getMessage() for r in records]
            assert "'stuck-report'" in line and repr(database) in line
            assert "idle in transaction" in line
            await transaction.rollback()
        finally:
            horizon_log.removeHandler(caplog.handler)
            await stuck.close()
        await poll(lambda: caught_up(fault_pool), 10)
        answer = (await client.get("/projections", headers=headers)).json()
        assert all(s["held_back_by"] is None for s in answer)
