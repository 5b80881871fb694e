"""Feed fixtures: the API's app and client, a deliverer stepped by the tests, and receivers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import asyncpg
import pytest

from tests.api.conftest import app, client, issue, session_client
from tests.clock import Clock
from tests.feed.receivers import Receiver
from tracker.eventstore.repository import Repository
from tracker.feed.deliverer import Deliverer
from tracker.feed.outbound import Client

__all__ = ["app", "client", "issue", "session_client"]


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    """Start receivers on loopback; every one is stopped after the test."""
    started: list[Receiver] = []

    async def start(**kwargs: object) -> Receiver:
        receiver = await Receiver(**kwargs).start()  # type: ignore[arg-type]
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def deliverer(
    repository: Repository, pool: asyncpg.Pool, clock: Clock
) -> AsyncIterator[Deliverer]:
    """A deliverer over the tests' repository and clock, with a short timeout."""
    jitter = random.Random(7)
    made = Deliverer(
        pool,
        repository,
        Client(timeout=1.0, allow_private=True, user_agent="test"),
        source="https://tracker.test/log",
        retry_for=timedelta(hours=24),
        now=clock,
        jitter=jitter.random,
    )
    yield made
    made.client.close()
