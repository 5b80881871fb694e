"""`tracker projections drop NAME`: a retired projection's generations, rows and views go."""

from __future__ import annotations

import asyncio

import asyncpg

from projections.base import Projection
from projections.registry import all_projections, projection_names
from projections.runner import REBUILD, create_generation, ensure_projection
from projections.status import statuses
from tests.projections.test_rebuild_command import tracker


class Retired(Projection):
    """A projection an older release ran: one published table, two generations."""

    name = "retired_views_v1"
    ddl = "CREATE TABLE retired_rows (id integer PRIMARY KEY)"
    tables = ("retired_rows",)


async def retire(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ensure_projection(conn, Retired())
        await create_generation(conn, Retired(), 2, "building")
        await conn.execute("INSERT INTO retired_views_v1_g1.retired_rows VALUES (1)")


async def left_of(pool: asyncpg.Pool) -> tuple[int, int, int, bool]:
    """Schemas, generation rows and projection rows of the retired one, and its public view."""
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'retired_views_v1_g%'),"
        " (SELECT count(*) FROM projection_generations WHERE name = 'retired_views_v1'),"
        " (SELECT count(*) FROM projections WHERE name = 'retired_views_v1'),"
        " to_regclass('public.retired_rows') IS NOT NULL"
    )
    assert row is not None
    return row[0], row[1], row[2], row[3]


async def test_drop_removes_every_generation_its_rows_and_its_public_views(
    pool: asyncpg.Pool, database_url: str
) -> None:
    await retire(pool)
    assert await left_of(pool) == (2, 2, 1, True)
    shown = {(s.name, s.generation): s.state for s in await statuses(pool, projection_names())}
    assert shown[("retired_views_v1", 1)] == shown[("retired_views_v1", 2)] == "retired"
    assert all(shown[(p.name, 1)] != "retired" for p in all_projections())

    done = await asyncio.to_thread(tracker, database_url, "drop", "retired_views_v1")

    assert done.returncode == 0, done.stderr
    assert "retired_views_v1: dropped generations 1, 2" in done.stdout
    assert await left_of(pool) == (0, 0, 0, False)
    # The projections this release runs are untouched.
    for projection in all_projections():
        assert await pool.fetchval(
            "SELECT live_generation FROM projections WHERE name = $1", projection.name
        )


async def test_drop_refuses_a_projection_this_release_runs_and_an_unknown_name(
    pool: asyncpg.Pool, database_url: str
) -> None:
    running = all_projections()[0].name
    refused = await asyncio.to_thread(tracker, database_url, "drop", running)
    assert refused.returncode == 2 and "a projection this release runs" in refused.stderr
    assert await pool.fetchval("SELECT count(*) FROM projections WHERE name = $1", running) == 1

    unknown = await asyncio.to_thread(tracker, database_url, "drop", "never_was_v1")
    assert unknown.returncode == 2 and "no projection named" in unknown.stderr


async def test_drop_refuses_while_a_rebuild_holds_the_projection_and_changes_nothing(
    pool: asyncpg.Pool, database_url: str
) -> None:
    await retire(pool)
    async with pool.acquire() as holder:
        await holder.execute("SELECT pg_advisory_lock($1, hashtext($2))", REBUILD, Retired.name)
        try:
            refused = await asyncio.to_thread(tracker, database_url, "drop", Retired.name)
        finally:
            await holder.execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))", REBUILD, Retired.name
            )
    assert refused.returncode == 1 and "a rebuild of retired_views_v1 is running" in refused.stderr
    assert await left_of(pool) == (2, 2, 1, True)
