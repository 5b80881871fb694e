"""Scratch schemas for past views: unlogged copies of the projections' tables, then dropped."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from projections.base import Projection
from projections.runner import CREATE_SCHEMA, DROP_SCHEMA, SEARCH_PATH
from tracker.database import Connection

# Nothing written to the scratch tables needs to survive a crash: no WAL for them.
UNLOGGED = """
SELECT format('ALTER TABLE %I.%I SET UNLOGGED', schemaname, tablename)
FROM pg_tables WHERE schemaname = $1
"""
# Scratch schemas are named as_of_<unix time>_<random>; one older than this was left behind by
# a process that stopped during its request, and the next replay drops it.
STALE_SECONDS = 24 * 3600
EPOCH = "SELECT extract(epoch FROM clock_timestamp())::bigint"
SCRATCH = r"SELECT nspname FROM pg_namespace WHERE nspname ~ '^as_of_[0-9]+_[0-9a-f]+$'"


async def scratch_name(conn: Connection) -> str:
    """A name for a new scratch schema, stamped with the database's clock."""
    return f"as_of_{await conn.fetchval(EPOCH)}_{uuid4().hex}"


async def create_tables(conn: Connection, projections: Sequence[Projection], schema: str) -> None:
    """Every projection's tables, unlogged, in one new scratch schema of that name."""
    async with conn.transaction():
        await conn.execute(await conn.fetchval(CREATE_SCHEMA, schema))
        # Transaction-local, like the runner's: the same unqualified DDL as the live tables.
        await conn.execute(SEARCH_PATH, f"{schema}, public")
        for projection in projections:
            await conn.execute(projection.ddl)
        for (statement,) in await conn.fetch(UNLOGGED, schema):
            await conn.execute(statement)


async def drop_stale(conn: Connection) -> None:
    """Drop the scratch schemas of replays that never finished (their process stopped)."""
    # The database's clock: the one every process that names scratch schemas shares.
    now = await conn.fetchval(EPOCH)
    for (schema,) in await conn.fetch(SCRATCH):
        if int(schema.split("_")[2]) < now - STALE_SECONDS:
            await conn.execute(await conn.fetchval(DROP_SCHEMA, schema))
