"""The app as `tracker serve`'s worker processes run it: each ends when the serving process dies."""

from __future__ import annotations

import asyncio
import logging
import os

from litestar import Litestar

from tracker.api.app import create_app

log = logging.getLogger("tracker")

# How often a worker looks for its serving process; the bound on outliving a killed one.
ORPHAN_POLL_SECONDS = 0.5


def create_served_app() -> Litestar:
    """create_app(), plus a watch that ends the worker once its parent is gone."""
    app = create_app()
    watch: list[asyncio.Task[None]] = []

    async def start_watch() -> None:
        watch.append(asyncio.create_task(_end_when_orphaned(os.getppid())))

    async def stop_watch() -> None:
        for task in watch:
            task.cancel()

    app.on_startup.append(start_watch)
    app.on_shutdown.append(stop_watch)
    return app


async def _end_when_orphaned(parent: int) -> None:
    """A `kill -9` of `tracker serve` leaves its workers behind, holding the port: end this one."""
    # Polled: no event tells a process that its parent died.
    while os.getppid() == parent:  # noqa: ASYNC110
        await asyncio.sleep(ORPHAN_POLL_SECONDS)
    log.warning("the serving process %s is gone: this worker ends too", parent)
    os._exit(1)
