"""Liveness answers while the process runs; readiness answers 503 naming each check that fails:
the database out of reach, refusing writes, behind on migrations, or views lagging the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.clock import Clock
from tests.conftest import with_database
from tracker import tokens
from tracker.api.app import create_app
from tracker.api.write_refusals import WINDOW_SECONDS
from tracker.eventstore import EventStore
from tracker.readiness import CHECKS
from tracker.settings import Settings

Client = AsyncTestClient[Litestar]


class Own:
    """An app over a database of its own, which a test may break."""

    def __init__(self, url: str, client: Client) -> None:
        self.url = url
        self.name = url.partition("?")[0].rsplit("/", 1)[1]
        self.client = client

    async def admin(self, sql: str) -> None:
        """Run sql on the server's maintenance database, outside this database."""
        conn = await asyncpg.connect(with_database(self.url, "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def sql(self, sql: str) -> Any:
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    async def renew_connections(self) -> None:
        """Make the app's pool open new connections, which read the database's settings anew."""
        pool = self.client.app.state.pool
        await asyncio.to_thread(self.client.blocking_portal.call, pool.expire_connections)

    async def ready(self, **headers: str) -> tuple[int, Any]:
        r = await self.client.get("/health/ready", headers=headers)
        return r.status_code, r.json()


@pytest.fixture
async def own(
    new_database: Callable[[], Awaitable[str]], tmp_path: Path, clock: Clock
) -> AsyncIterator[Own]:
    url = await new_database()
    # The views are not kept current here, so that a test decides how far behind they are.
    settings = Settings(
        database_url=url,
        pool_size=2,
        data_dir=tmp_path,
        seal_seconds=0,
        run_projections=False,
        ready_max_lag_seconds=1e-6,
    )
    async with AsyncTestClient(create_app(settings, now=clock)) as client:
        yield Own(url, client)


async def test_readiness_passes_every_check_and_health_answers_the_same(own: Own) -> None:
    status, body = await own.ready()
    assert status == 200
    assert body["status"] == "ok" and body["failed"] == []
    assert list(body["checks"]) == list(CHECKS)
    assert all(check == {"ok": True} for check in body["checks"].values())
    assert "migrations" not in body  # their names only for a caller with a token
    legacy = await own.client.get("/health")
    assert legacy.status_code == 200 and legacy.json() == body
    beat = await own.sql("SELECT beat_at FROM health_heartbeat WHERE id = 1")
    assert beat is not None


async def test_an_unreachable_database_fails_readiness_but_not_liveness(own: Own) -> None:
    await own.admin(f'ALTER DATABASE "{own.name}" WITH ALLOW_CONNECTIONS false')
    try:
        await own.admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{own.name}'"
        )
        await own.renew_connections()
        status, body = await own.ready()
        assert status == 503
        assert body["status"] == "unavailable"
        assert body["failed"] == list(CHECKS)
        assert body["checks"]["database"]["reason"].startswith("unreachable (")
        assert "error" not in body["checks"]["database"]  # the database's words need a token
        assert body["checks"]["writable"]["reason"] == "not checked: the database is unreachable"
        assert body["database"] == {"reachable": False}
        live = await own.client.get("/health/live")
        assert live.status_code == 200 and live.json() == {"status": "ok"}
        assert (await own.client.get("/health")).status_code == 503
    finally:
        await own.admin(f'ALTER DATABASE "{own.name}" WITH ALLOW_CONNECTIONS true')
    status, body = await own.ready()
    assert status == 200, body


async def test_a_database_that_refuses_writes_fails_the_writable_check(own: Own) -> None:
    await own.admin(f'ALTER DATABASE "{own.name}" SET default_transaction_read_only = on')
    await own.renew_connections()
    status, body = await own.ready()
    assert status == 503
    assert body["failed"] == ["writable"]
    assert "read-only" in body["checks"]["writable"]["reason"]
    assert body["checks"]["database"] == {"ok": True}
    # A request's write refused too: a 503 the client may retry.
    token = await _token_while_read_only(own)
    body = {"name": "Riverside Council", "kind": "council"}
    headers = {"Authorization": f"Bearer {token}"}
    refused = await own.client.post("/organisations", json=body, headers=headers)
    assert refused.status_code == 503, refused.text
    await own.admin(f'ALTER DATABASE "{own.name}" RESET default_transaction_read_only')
    await own.renew_connections()
    # The heartbeat passes again, but a request's write was refused lately: still not ready.
    status, body = await own.ready()
    assert status == 503 and body["failed"] == ["writable"]
    assert "a request's write was refused" in body["checks"]["writable"]["reason"]
    assert "(SQLSTATE 25006)" in body["checks"]["writable"]["reason"]
    refusals = own.client.app.state.write_refusals
    later = refusals.clock() + WINDOW_SECONDS
    refusals.clock = lambda: later
    assert (await own.ready())[0] == 200


async def test_a_write_refused_for_a_full_disk_fails_readiness_for_a_while(own: Own) -> None:
    refusals = own.client.app.state.write_refusals
    refusals.note(asyncpg.DiskFullError("could not extend file: No space left on device"))
    status, body = await own.ready()
    assert status == 503 and body["failed"] == ["writable"]
    assert "(SQLSTATE 53100)" in body["checks"]["writable"]["reason"]
    refusals.note(asyncpg.UniqueViolationError("a request's own fault"))
    later = refusals.clock() + WINDOW_SECONDS
    refusals.clock = lambda: later
    assert (await own.ready())[0] == 200


async def _token_while_read_only(own: Own) -> str:
    """An admin token, written in a transaction that may write."""
    conn = await asyncpg.connect(own.url)
    try:
        async with conn.transaction(readonly=False):
            await conn.execute("SET TRANSACTION READ WRITE")
            return await tokens.issue(conn, "readiness-test", "admin")  # type: ignore[arg-type]
    finally:
        await conn.close()


async def test_a_migration_not_applied_fails_readiness_and_a_token_sees_which(own: Own) -> None:
    await own.sql("DELETE FROM schema_migrations WHERE name = '0010_health_heartbeat.sql'")
    status, body = await own.ready()
    assert status == 503
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["reason"] == "1 migration not applied"
    token = await _token(own.url)
    status, detailed = await own.ready(Authorization=f"Bearer {token}")
    assert status == 503
    assert detailed["migrations"]["pending"] == ["0010_health_heartbeat.sql"]


async def test_views_lagging_beyond_the_limit_fail_readiness(own: Own) -> None:
    # A microsecond's limit: any event not yet applied is beyond it.
    store = EventStore(own.client.app.state.pool)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(own.url))
    await asyncio.to_thread(own.client.blocking_portal.call, runner.ensure)
    headers = {"Authorization": f"Bearer {await _token(own.url)}"}
    body = {"name": "Riverside Council", "kind": "council"}
    assert (await own.client.post("/organisations", json=body, headers=headers)).status_code == 201
    status, answer = await own.ready()
    assert status == 503
    assert answer["failed"] == ["projections"]
    reason = answer["checks"]["projections"]["reason"]
    assert reason.split(" ")[0] in {p.name for p in all_projections()}
    assert "s behind the log (limit 1e-06 s)" in reason
    # Caught up, nothing is behind, whatever the limit.
    await asyncio.to_thread(own.client.blocking_portal.call, runner.run_until_caught_up)
    assert (await own.ready())[0] == 200


async def _token(url: str) -> str:
    """An admin token on the app's own database."""
    conn = await asyncpg.connect(url)
    try:
        return await tokens.issue(conn, "readiness-test", "admin")  # type: ignore[arg-type]
    finally:
        await conn.close()
