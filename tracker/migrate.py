"""Apply the numbered SQL files in migrations/ in order, each once, under an advisory lock."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec

from tracker.database import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Any constant works; it only has to be the same in every process that migrates.
MIGRATION_LOCK = 7_301_555_114

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"

FILE_NAME = re.compile(r"^(\d+)_[\w-]+\.sql$")


class Migration(msgspec.Struct, frozen=True):
    """One SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text, to notice edits after it was applied."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationChanged(Exception):
    """An applied migration file was edited afterwards."""

    def __init__(self, name: str, applied: str, now: str) -> None:
        super().__init__(
            f"migration {name} was changed after it was applied "
            f"(applied checksum {applied[:12]}, file now {now[:12]}); "
            "add a new migration instead of editing an applied one"
        )
        self.name = name


class MigrationState(msgspec.Struct, frozen=True):
    """What is applied and what is still pending."""

    applied: list[str]
    pending: list[str]


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read the migration files, ordered by their number."""
    found = []
    for path in directory.iterdir():
        match = FILE_NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    found.sort(key=lambda m: m.version)
    return found


async def migrate(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    migrations = load_migrations(directory)
    # A session-level lock: a second process waits here, then finds nothing left to do.
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(CREATE_TABLE)
        applied = {r["version"]: r for r in await conn.fetch(SELECT_APPLIED)}
        done = []
        for migration in migrations:
            previous = applied.get(migration.version)
            if previous is not None:
                if previous["checksum"] != migration.checksum:
                    raise MigrationChanged(migration.name, previous["checksum"], migration.checksum)
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    INSERT_APPLIED, migration.version, migration.name, migration.checksum
                )
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def migration_state(conn: Connection, directory: Path = MIGRATIONS_DIR) -> MigrationState:
    """Compare the files with what the database says is applied."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = [r["name"] for r in await conn.fetch(SELECT_APPLIED)] if exists else []
    pending = [m.name for m in load_migrations(directory) if m.name not in applied]
    return MigrationState(applied=applied, pending=pending)
