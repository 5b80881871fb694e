"""Where the database lives: a URL, or an embedded PostgreSQL in the data folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import asyncpg
import msgspec

from tracker import embedded
from tracker.connections import CLI, for_url, keepalive_connect, session_settings
from tracker.settings import Settings

log = logging.getLogger(__name__)

# A plain connection, or one borrowed from a pool.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

# The largest bigint: positions and tree sizes a client sends are checked against it, since a
# larger number cannot be sent to PostgreSQL at all.
MAX_BIGINT = 2**63 - 1


def database_url(settings: Settings) -> str:
    """Return the configured URL, starting the embedded PostgreSQL when none is set."""
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir, keep=settings.embedded_keep)


def start_embedded(data_dir: Path, *, keep: bool = False) -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives under data_dir."""
    return embedded.start(data_dir, keep=keep)


def _encode_json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def init_connection(conn: Connection) -> None:
    """Decode and encode jsonb with msgspec, the fastest JSON codec we have."""
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_json,
        decoder=msgspec.json.decode,
        format="text",
    )


async def _skip_reset(conn: asyncpg.Connection) -> None:
    """Skip the default reset query: it costs a round trip per use and we leave no session state."""


async def create_pool(
    url: str, size: int = 8, role: str = CLI, settings: Settings | None = None
) -> asyncpg.Pool:
    """Open a small pool: throughput saturates at about 8 connections on 2 cores."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min(2, size),
        max_size=size,
        init=init_connection,
        reset=_skip_reset,
        server_settings=for_url(url, session_settings(role, settings)),
        # Typed by the stubs as asyncpg.connect's full signature, which this passes through.
        connect=cast(Any, keepalive_connect(settings)),
    )
    assert pool is not None
    return pool


def stop_embedded(pgdata: Path) -> None:
    """Stop the embedded PostgreSQL running on pgdata, and its keeper, if they are running."""
    embedded.stop(pgdata)
