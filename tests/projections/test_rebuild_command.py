"""`tracker projections rebuild`: names or --all, one read of the log, every view switched."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

from projections.registry import all_projections
from tests.projections.test_bulk import generate
from tracker.eventstore.repository import Repository


def tracker(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the tracker command line against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {"TRACKER_DATABASE_URL": database_url, "TRACKER_LOG_LEVEL": "warning"}
    return subprocess.run(
        [sys.executable, "-m", "tracker", "projections", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_rebuild_all_switches_every_projection_to_a_new_generation(
    pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=3, steps=300)

    done = await asyncio.to_thread(tracker, database_url, "rebuild", "--all")

    assert done.returncode == 0, done.stderr
    for projection in all_projections():
        assert f"{projection.name}: generation 2 is live" in done.stdout
        live = await pool.fetchval(
            "SELECT live_generation FROM projections WHERE name = $1", projection.name
        )
        assert live == 2


async def test_rebuild_refuses_both_or_neither_of_names_and_all(database_url: str) -> None:
    name = all_projections()[0].name
    for args in (("rebuild",), ("rebuild", "--all", name)):
        refused = await asyncio.to_thread(tracker, database_url, *args)
        assert refused.returncode == 2
        assert "name the projections to rebuild, or give --all" in refused.stderr
    unknown = await asyncio.to_thread(tracker, database_url, "rebuild", "no_such_view_v1")
    assert unknown.returncode == 2 and "no projection named" in unknown.stderr
