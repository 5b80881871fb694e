"""Baselines for bench/api.py: litestar hello-world, one INSERT and one SELECT by primary key.

Served exactly like the service (same server, workers, loop and HTTP implementation) with the
service's pool (tracker.database.create_pool, TRACKER_DATABASE_URL, TRACKER_POOL_SIZE).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from tracker.database import create_pool
from tracker.settings import Settings

# An event-like row: the same key, identity and jsonb payload as the events table, no more.
TABLE = """CREATE TABLE IF NOT EXISTS bare (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id uuid NOT NULL, payload jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now())"""
INSERT = "INSERT INTO bare (stream_id, payload) VALUES ($1, $2) RETURNING position"
SELECT = "SELECT position, stream_id, payload, recorded_at FROM bare WHERE position = $1"


@get("/hello")
async def hello() -> dict[str, str]:
    """The framework alone."""
    return {"hello": "world"}


@post("/rows")
async def insert(data: dict[str, Any], state: State) -> dict[str, int]:
    """One INSERT of the posted JSON."""
    return {"position": await state.pool.fetchval(INSERT, uuid.uuid4(), data)}


@get("/rows/{position:int}")
async def select(position: int, state: State) -> dict[str, Any]:
    """One SELECT by primary key."""
    row = await state.pool.fetchrow(SELECT, position)
    if row is None:
        raise NotFoundException()
    return dict(row)


def create_app() -> Litestar:
    """The baseline app, opening the service's pool in its lifespan."""
    settings = Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        assert settings.database_url, "TRACKER_DATABASE_URL must be set"
        app.state.pool = await create_pool(settings.database_url, size=settings.pool_size)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar([hello, insert, select], lifespan=[lifespan], openapi_config=None)
