"""Drop a projection this release no longer runs: every generation's schema, and its rows."""

from __future__ import annotations

from projections.base import schema_of
from projections.runner import BATCH, DROP_SCHEMA, LOCK_BATCH, REBUILD
from tracker.database import Connection

TRY_REBUILD = "SELECT pg_try_advisory_xact_lock($1, hashtext($2))"
GENERATIONS = "SELECT generation FROM projection_generations WHERE name = $1 ORDER BY generation"
KNOWN = "SELECT EXISTS (SELECT FROM projections WHERE name = $1)"
FORGET_GENERATIONS = "DELETE FROM projection_generations WHERE name = $1"
FORGET = "DELETE FROM projections WHERE name = $1"


class Rebuilding(Exception):
    """A rebuild of the projection holds its lock: an older release is still working on it."""


async def drop_projection(conn: Connection, name: str) -> list[int]:
    """Drop every generation of a retired projection in one transaction; the generations gone.

    Its public views go with its tables unless a successor already took their names over.
    """
    async with conn.transaction():
        # A server of the older release may still be applying a batch or rebuilding: the batch
        # lock waits for the batch, and a rebuild refuses rather than being dropped under.
        await conn.execute(LOCK_BATCH, BATCH, name)
        if not await conn.fetchval(TRY_REBUILD, REBUILD, name):
            raise Rebuilding(name)
        if not await conn.fetchval(KNOWN, name):
            raise KeyError(name)
        generations = [r[0] for r in await conn.fetch(GENERATIONS, name)]
        for generation in generations:
            await conn.execute(await conn.fetchval(DROP_SCHEMA, schema_of(name, generation)))
        await conn.execute(FORGET_GENERATIONS, name)
        await conn.execute(FORGET, name)
    return generations
