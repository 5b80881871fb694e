"""`tracker deliveries run`: deliver webhooks in a process of their own."""

from __future__ import annotations

import asyncio
import os
import signal

import click

from tracker.cli.common import Ordered, finish, migrated_pool, pass_settings, resolved_url, run_fast
from tracker.connections import PROJECTIONS
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.feed.running import deliver
from tracker.settings import Settings


@click.group(cls=Ordered)
def deliveries() -> None:
    """Deliver the change feed's webhooks."""


@deliveries.command()
@pass_settings
def run(settings: Settings) -> None:
    """Deliver webhooks of every subscription (until stopped)."""
    finish(run_fast(_run(settings)))


async def _run(settings: Settings) -> int:
    # Deliveries may lag a moment behind a burst; the commands that make the events may not.
    os.nice(settings.deliveries_nice)
    url = await resolved_url(settings)
    async with migrated_pool(url, settings.pool_size, PROJECTIONS, settings) as pool:
        store = EventStore(pool, poll_interval=settings.poll_interval)
        repository = Repository(store, EventMapper(EVENT_TYPES, STREAM_TYPES))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo("delivering webhooks; Ctrl-C to stop", err=True)
        watcher = asyncio.create_task(repository.watch_other_writers(stop, settings.poll_interval))
        try:
            await deliver(settings, pool, repository, url, stop)
        finally:
            stop.set()
            await asyncio.gather(watcher, return_exceptions=True)
    return 0
