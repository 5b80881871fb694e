"""A restore refuses a database that is in use, and keeps an auditor's tree heads meaningful."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from tests.audit.test_export_import import exported
from tests.audit.test_tamper import tracker
from tests.audit.test_verify import Sealed, sealed_history
from tracker.audit.verify import verify
from tracker.database import create_pool
from tracker.eventstore.repository import Repository


@pytest.fixture
async def history(repository: Repository, pool: asyncpg.Pool) -> Sealed:
    return await sealed_history(repository, pool)


async def test_import_refuses_while_a_server_is_connected_and_runs_once_it_is_gone(
    history: Sealed,
    pool: asyncpg.Pool,
    tmp_path: Path,
    new_database: object,
) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(await exported(pool, history.count))
    url = await new_database()  # type: ignore[operator]
    # A server's connection, as `tracker serve` would hold it.
    serving = await asyncpg.connect(url, server_settings={"application_name": "tracker serve"})
    try:
        refused = await asyncio.to_thread(tracker, url, "audit", "import", str(export))
    finally:
        await serving.close()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "in use by 1 other session(s): tracker serve (pid" in refused.stderr

    for _ in range(200):  # the closed session leaves pg_stat_activity a moment later
        done = await asyncio.to_thread(tracker, url, "audit", "import", str(export))
        if "in use" not in done.stderr:
            break
    assert done.returncode == 0, done.stdout + done.stderr
    restored = await create_pool(url, size=2)
    try:
        assert await restored.fetchval("SELECT count(*) FROM events") == history.count
        # The heads saved before the restore still hash to the restored log.
        report = await verify(restored, history.heads, history.key.public_raw)
    finally:
        await restored.close()
    assert not [f for f in report.findings if "hash to" in f.message or f.kind == "change"]
