"""When the database goes away: connections it cut are replaced, and what cannot reach it is a
503 that tells the client how to learn whether its command landed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tracker.api.app import create_app
from tracker.settings import Settings


def own_app(database_url: str, data_dir: Path) -> AsyncTestClient:  # type: ignore[type-arg]
    """An app of its own, whose connections carry a name so that only they are cut."""
    url = database_url + ("&" if "?" in database_url else "?") + "application_name=outage"
    settings = Settings(database_url=url, pool_size=2, data_dir=data_dir, seal_seconds=0)
    return AsyncTestClient(create_app(settings))


async def test_connections_the_server_cut_are_replaced_between_requests(
    pool: asyncpg.Pool, database_url: str, issue: Tokens, tmp_path: Path
) -> None:
    admin = await issue.headers("admin")
    async with own_app(database_url, tmp_path) as client:
        body = {"name": "Riverside Council", "kind": "council"}
        assert (await client.post("/organisations", json=body, headers=admin)).status_code == 201
        cut = await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'outage'"
        )
        assert cut > 0
        # Each connection the server cut fails at most once, as a 503 the client may retry;
        # then the pool has replaced it.
        answers = []
        for attempt in range(3):
            body = {"name": f"Northside NHS Trust {attempt}", "kind": "nhs"}
            answers.append(await client.post("/organisations", json=body, headers=admin))
            if answers[-1].status_code == 201:
                break
        assert answers[-1].status_code == 201
        for refused in answers[:-1]:
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert refused.json()["type"].endswith("/database-unavailable")


async def test_a_request_that_cannot_reach_the_database_is_a_503_with_retry_after(
    database_url: str, issue: Tokens, tmp_path: Path
) -> None:
    admin = await issue.headers("admin")
    async with own_app(database_url, tmp_path) as client:
        # Every query now fails, as with the database gone (closed on the app's own loop).
        await asyncio.to_thread(client.blocking_portal.call, client.app.state.pool.close)
        r = await client.get(f"/organisations/{uuid.uuid4()}", headers=admin)
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["type"].endswith("/database-unavailable")
        assert "Idempotency-Key" in problem["detail"]
