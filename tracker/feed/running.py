"""Where deliveries run: inside `tracker serve`, or in `tracker deliveries run` apart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg

from projections.lease import Leases
from tracker.application.clock import Now, system_now
from tracker.connections import PROJECTIONS, connect
from tracker.eventstore.repository import Repository
from tracker.feed.deliverer import Deliverer
from tracker.feed.manage import Policy
from tracker.feed.outbound import Client
from tracker.settings import Settings

USER_AGENT = "commitment-tracker-webhooks/1"


def feed_policy(settings: Settings) -> Policy:
    """What targets and secrets the settings allow."""
    return Policy(
        settings.webhook_allow_private,
        (settings.host, settings.port),
        timedelta(hours=settings.webhook_secret_grace_hours),
    )


def deliverer(
    settings: Settings, pool: asyncpg.Pool, repository: Repository, now: Now = system_now
) -> Deliverer:
    """A deliverer as the settings configure it."""
    client = Client(settings.webhook_timeout_seconds, settings.webhook_allow_private, USER_AGENT)
    return Deliverer(
        pool,
        repository,
        client,
        source=f"https://{settings.log_origin}",
        retry_for=timedelta(hours=settings.webhook_retry_hours),
        keep_attempts=settings.webhook_log_attempts,
        now=now,
    )


async def deliver(
    settings: Settings,
    pool: asyncpg.Pool,
    repository: Repository,
    url: str,
    stop: asyncio.Event,
    now: Now = system_now,
) -> None:
    """Deliver under the deliveries' lease until stop."""

    def lease_connection() -> Awaitable[asyncpg.Connection]:
        return connect(url, PROJECTIONS, settings)

    leases = Leases(settings.lease_seconds, renew_seconds=settings.lease_renew_seconds)
    made = deliverer(settings, pool, repository, now)
    made.watcher = repository.store.watcher
    await made.run(stop, lease_connection, settings.poll_interval, leases)


@asynccontextmanager
async def running_deliveries(
    settings: Settings, pool: asyncpg.Pool, repository: Repository, url: str, now: Now
) -> AsyncIterator[None]:
    """Deliver webhooks in this process, unless a process of their own does."""
    if not settings.run_deliveries:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(deliver(settings, pool, repository, url, stop, now))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
