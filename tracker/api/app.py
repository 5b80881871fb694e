"""The composition root: create_app() wires settings, the pool and the controllers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from tracker.api.health import HealthController
from tracker.database import create_pool, database_url
from tracker.eventstore import EventStore
from tracker.migrate import migrate
from tracker.settings import Settings

log = logging.getLogger("tracker")


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; it opens nothing until the lifespan starts."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        url = await asyncio.to_thread(database_url, settings)  # may start the embedded server
        pool = await create_pool(url, size=settings.pool_size)
        try:
            async with pool.acquire() as conn:
                applied = await migrate(conn)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            app.state.pool = pool
            app.state.store = EventStore(pool, poll_interval=settings.poll_interval)
            yield
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[HealthController],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="Commitment Tracker",
            version="0.1.0",
            description="Who across the system is doing what, toward which shared purpose.",
            path="/docs",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
    )
