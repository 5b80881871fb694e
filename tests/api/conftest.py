"""API fixtures: the real app over the test database, a controllable clock, tokens per role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.clock import Clock
from tracker import tokens
from tracker.api.app import create_app
from tracker.settings import Settings


@pytest.fixture(scope="session")
def app(database_url: str, clock: Clock, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    # No background sealing in tests: it would race the per-test TRUNCATE.
    settings = Settings(
        database_url=database_url,
        pool_size=4,
        data_dir=tmp_path_factory.mktemp("data"),
        seal_seconds=0,
        # Tests deliver webhooks with a deliverer of their own, stepped to a known state, to
        # receivers they start on loopback.
        run_deliveries=False,
        webhook_allow_private=True,
    )
    return create_app(settings, now=clock)


@pytest.fixture(scope="session")
async def session_client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
async def client(
    session_client: AsyncTestClient[Litestar], pool: asyncpg.Pool
) -> AsyncTestClient[Litestar]:
    """The app's client over freshly emptied tables (the clock is reset for every test)."""
    # Every test starts with no failed authentications counted against the test client.
    session_client.app.state.authenticator.throttle.clear()
    return session_client


class Tokens:
    """Issue tokens for tests and turn them into headers."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def headers(
        self, kind: str, leader_id: uuid.UUID | None = None, name: str = "", **extra: str
    ) -> dict[str, str]:
        # A token's name is the source_system it records for, if any.
        token = await tokens.issue(self.pool, name or f"test-{kind}", kind, leader_id)
        return {"Authorization": f"Bearer {token}"} | extra


@pytest.fixture
def issue(pool: asyncpg.Pool) -> Tokens:
    return Tokens(pool)


def body(response: Any) -> Any:
    """The JSON body of a response, with its status shown when it is not what a test expects."""
    return response.json()
