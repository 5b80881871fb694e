"""Fault tests: a database of their own, so no other runner of the session competes for the
projections' leases, emptied before each test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import empty_tables, migrated
from tests.faults.cluster import Cluster
from tests.faults.workers import Worker
from tracker.database import create_pool


@pytest.fixture(scope="session")
async def fault_url(new_database) -> str:  # type: ignore[no-untyped-def]
    return await migrated(new_database)


@pytest.fixture(scope="session")
async def fault_session_pool(fault_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fault_url, size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def fault_pool(fault_session_pool: asyncpg.Pool) -> asyncpg.Pool:
    """The fault database's pool over emptied tables."""
    await empty_tables(fault_session_pool)
    return fault_session_pool


@pytest.fixture
def workers(fault_url: str, tmp_path: Path) -> Iterator[list[Worker]]:
    """Start workers with start(name, **settings); every one is stopped after the test."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def start(started: list[Worker], url: str, folder: Path, name: str, **settings: str) -> Worker:
    """A worker added to the test's list, so that it is stopped after the test."""
    worker = Worker(url, folder, name, **settings)
    started.append(worker)
    return worker


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    """A PostgreSQL cluster of the test's own, which it may stop and restart; removed after."""
    cluster = Cluster()
    try:
        await asyncio.to_thread(cluster.start)
        yield cluster
    finally:
        await asyncio.to_thread(cluster.remove)
