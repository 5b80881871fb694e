"""Fixtures: one throwaway database per session, built by the real migrations, clean per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from projections.registry import all_projections
from projections.runner import BATCH, LOCK_BATCH, ensure_projection
from tests.clock import START, Clock
from tracker.audit.seals import SEAL_LOCK
from tracker.database import create_pool, start_embedded, stop_embedded
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.domain.clock import stamped_by
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED = ROOT / ".tracker" / "test"
OTHERS_CONNECTED = """
SELECT count(*) FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
"""


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def clock() -> Clock:
    """The one clock of the session; each test starts it at START."""
    return Clock()


@pytest.fixture(autouse=True)
def domain_clock(clock: Clock) -> Iterator[Clock]:
    """Every test starts at START, and events raised outside a command read the same clock."""
    clock.moment = START
    with stamped_by(clock):
        yield clock


@pytest.fixture(scope="session")
async def admin_url() -> AsyncIterator[str]:
    """The server tests create their databases on: an embedded one, stopped after, if none given."""
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if url:
        yield url
        return
    url = start_embedded(EMBEDDED)
    yield url
    conn = await asyncpg.connect(url)
    try:
        others = await conn.fetchval(OTHERS_CONNECTED)
    finally:
        await conn.close()
    # Another test run sharing the embedded server stops it when it ends, not this one.
    if not others:
        stop_embedded(EMBEDDED / "pgdata")


@pytest.fixture(scope="session")
async def new_database(admin_url: str) -> AsyncIterator[object]:
    """A factory of empty databases, dropped at the end of the session."""
    created: list[str] = []

    async def make() -> str:
        name = f"tracker_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        created.append(name)
        return with_database(admin_url, name)

    yield make
    conn = await asyncpg.connect(admin_url)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrated(new_database: Callable[[], Awaitable[str]]) -> str:
    """A new database, built by the real migrations; its URL."""
    url = await new_database()
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


@pytest.fixture(scope="session")
async def database_url(new_database) -> str:  # type: ignore[no-untyped-def]
    return await migrated(new_database)


@pytest.fixture(scope="session")
async def session_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, size=8)
    yield pool
    await pool.close()


async def empty_tables(session_pool: asyncpg.Pool) -> None:
    """Empty every table and put every projection back at generation 1."""
    async with session_pool.acquire() as conn, conn.transaction():
        # Hold every projection's batch lock first, so a running projection waits instead of
        # deadlocking with the TRUNCATE below.
        for projection in all_projections():
            await conn.execute(LOCK_BATCH, BATCH, projection.name)
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SEAL_LOCK)
        # The leases are the running processes' state, not data: runners started by earlier
        # tests keep leading from one test to the next.
        tables = await conn.fetch(
            "SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('schema_migrations', 'projection_leases')"
        )
        await conn.execute(f"TRUNCATE {', '.join(r['t'] for r in tables)} RESTART IDENTITY CASCADE")
        # Projection tables live in one schema per generation; each test starts at generation 1.
        schemas = await conn.fetch(
            "SELECT quote_ident(nspname) AS s FROM pg_namespace WHERE nspname ~ '_v[0-9]+_g[0-9]+$'"
        )
        for row in schemas:
            await conn.execute(f"DROP SCHEMA {row['s']} CASCADE")
        for projection in all_projections():
            await ensure_projection(conn, projection)


@pytest.fixture
async def pool(session_pool: asyncpg.Pool) -> asyncpg.Pool:
    """The session's pool over freshly emptied tables and generation-1 projections."""
    await empty_tables(session_pool)
    return session_pool


@pytest.fixture
async def store(pool: asyncpg.Pool, clock: Clock) -> EventStore:
    return EventStore(pool, poll_interval=0.01, now=clock)


@pytest.fixture
def repository(store: EventStore) -> Repository:
    """The real domain's repository, for seeding and checking aggregates directly."""
    return Repository(store, EventMapper(EVENT_TYPES, STREAM_TYPES))
