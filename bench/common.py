"""Shared by the benchmarks: a scratch database, timed runs, and tables of figures."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse, urlsplit

import asyncpg

from tracker.database import create_pool
from tracker.migrate import migrate

SERVER = os.environ.get(
    "TRACKER_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def url_for(database: str, server: str = SERVER) -> str:
    """The bench server's URL pointing at another database (a socket path in ?host= too)."""
    return urlsplit(server)._replace(path="/" + database).geturl()


async def fresh_database(name: str, server: str = SERVER) -> str:
    """Drop and recreate a database, migrate it, and return its URL."""
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = url_for(name, server)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def fetch_value(url: str, sql: str) -> Any:
    """One value from one query, on a connection of its own."""
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def libpq_env(url: str) -> dict[str, str]:
    """POSTGRES_* settings for the `eventsourcing` library from a URL."""
    u = urlparse(url)
    return {
        "POSTGRES_DBNAME": u.path.lstrip("/"),
        "POSTGRES_HOST": u.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(u.port or 5432),
        "POSTGRES_USER": u.username or "postgres",
        "POSTGRES_PASSWORD": u.password or "",
    }


async def run_for(seconds: float, workers: int, step: Callable[[int], Awaitable[int]]) -> float:
    """Run step(worker) in a loop on each worker for a while; return items per second."""
    done = [0] * workers
    stop = time.monotonic() + seconds

    async def loop(i: int) -> None:
        while time.monotonic() < stop:
            done[i] += await step(i)

    started = time.monotonic()
    await asyncio.gather(*(loop(i) for i in range(workers)))
    return sum(done) / (time.monotonic() - started)


def median(values: list[float]) -> float:
    """Median of repeated runs."""
    return statistics.median(values)


def table(header: list[str], rows: list[list[object]]) -> str:
    """A plain text table with right-aligned numbers."""
    cells = [
        [
            f"{c:,.0f}"
            if isinstance(c, float) and c >= 100
            else f"{c:.2f}"
            if isinstance(c, float)
            else str(c)
            for c in row
        ]
        for row in rows
    ]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


async def pool_for(url: str, size: int) -> asyncpg.Pool:
    """The same pool settings the service uses."""
    return await create_pool(url, size=size)
