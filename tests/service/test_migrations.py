"""Migrations apply in order, once, under a lock, and refuse edited history."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from tracker.migrate import (
    MIGRATIONS_DIR,
    MigrationChanged,
    load_migrations,
    migrate,
    migration_state,
)

NewDatabase = Callable[[], Awaitable[str]]


async def test_migrating_twice_applies_everything_once(new_database: NewDatabase) -> None:
    conn = await asyncpg.connect(await new_database())
    try:
        first = await migrate(conn)
        assert first == [m.name for m in load_migrations()]
        assert await migrate(conn) == []
        rows = await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")
        assert [r["name"] for r in rows] == first
        assert (await migration_state(conn)).pending == []
    finally:
        await conn.close()


async def test_two_concurrent_migrators_do_not_collide(new_database: NewDatabase) -> None:
    url = await new_database()
    a, b = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        applied = await asyncio.gather(migrate(a), migrate(b))
        names = [m.name for m in load_migrations()]
        assert sorted(applied, key=len) == [[], names]
        assert await a.fetchval("SELECT count(*) FROM schema_migrations") == len(names)
    finally:
        await a.close()
        await b.close()


async def test_a_changed_applied_migration_is_refused(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    conn = await asyncpg.connect(await new_database())
    try:
        await migrate(conn, directory)
        first = sorted(directory.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an afterthought\n")
        with pytest.raises(MigrationChanged, match=first.name):
            await migrate(conn, directory)
    finally:
        await conn.close()


async def test_a_new_migration_file_is_applied_after_the_others(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    conn = await asyncpg.connect(await new_database())
    try:
        await migrate(conn, directory)
        (directory / "9999_extra.sql").write_text("CREATE TABLE extra (id int);")
        assert (await migration_state(conn, directory)).pending == ["9999_extra.sql"]
        assert await migrate(conn, directory) == ["9999_extra.sql"]
        assert await conn.fetchval("SELECT to_regclass('extra') IS NOT NULL")
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_half_applied(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    (directory / "9999_broken.sql").write_text("CREATE TABLE half (id int); SELECT 1/0;")
    conn = await asyncpg.connect(await new_database())
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, directory)
        assert not await conn.fetchval("SELECT to_regclass('half') IS NOT NULL")
        assert "9999_broken.sql" in (await migration_state(conn, directory)).pending
    finally:
        await conn.close()
