"""Revocation and deactivation reach every server process within a second.

Two instances of the app, each with its own caches, share one database, as two workers do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import seed_world
from tests.clock import Clock
from tracker import tokens
from tracker.api.app import create_app
from tracker.eventstore.repository import Repository
from tracker.settings import Settings

Client = AsyncTestClient[Litestar]
BOUND = 1.0  # seconds


@pytest.fixture(scope="module")
async def other_worker(
    database_url: str, clock: Clock, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Client]:
    """A second instance of the app over the same database, with caches of its own."""
    settings = Settings(
        database_url=database_url,
        pool_size=2,
        data_dir=tmp_path_factory.mktemp("other"),
        seal_seconds=0,
        run_projections=False,
    )
    async with AsyncTestClient(create_app(settings, now=clock)) as client:
        yield client


async def refused_within(client: Client, path: str, headers: dict[str, str], status: int) -> None:
    """Poll until the request is refused with status; fail if it is still served after BOUND."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND
    while True:
        r = await client.get(path, headers=headers)
        if r.status_code == status:
            return
        assert r.status_code == 200, r.text
        assert loop.time() < deadline, f"still served {BOUND} s later"
        await asyncio.sleep(0.01)


async def test_a_revoked_token_is_refused_by_every_worker_within_a_second(
    client: Client, other_worker: Client, pool: asyncpg.Pool
) -> None:
    token = await tokens.issue(pool, "ops", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    # Both workers have looked the token up, so both hold it in their caches.
    assert (await client.get("/projections", headers=headers)).status_code == 200
    assert (await other_worker.get("/projections", headers=headers)).status_code == 200

    token_id = await pool.fetchval("SELECT id FROM api_tokens WHERE name = 'ops'")
    assert await tokens.revoke(pool, token_id)  # as `tracker tokens revoke` does

    await refused_within(other_worker, "/projections", headers, 401)
    await refused_within(client, "/projections", headers, 401)


async def test_a_leader_deactivated_through_one_worker_is_refused_by_the_other_within_a_second(
    client: Client, other_worker: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    ben, path = await issue.headers("leader", world.id("ben")), f"/leaders/{world.id('ben')}"
    assert (await other_worker.get(path, headers=ben)).status_code == 200

    admin = await issue.headers("admin")
    off = await client.post(f"{path}/deactivation", json={"reason": "left"}, headers=admin)
    assert off.status_code == 200, off.text

    await refused_within(other_worker, path, ben, 403)
    assert (await client.get(path, headers=ben)).status_code == 403
