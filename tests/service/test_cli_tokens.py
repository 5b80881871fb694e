"""`tracker tokens`: leaders must exist, and tokens may expire; each run through its entry point."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta

import asyncpg
import pytest
from click.testing import CliRunner, Result

from tests.clock import Clock
from tracker import tokens
from tracker.application.ports import Context
from tracker.cli import tracker as tracker_command
from tracker.domain import Leader
from tracker.eventstore.repository import Repository

SEEDER = Context(actor="system:test-seed")


def tracker(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m tracker tokens ...` as a user runs it, with only the database's variable."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env = {"TRACKER_DATABASE_URL": database_url, "TRACKER_LOG_LEVEL": "warning"}
    return subprocess.run(
        [sys.executable, "-m", "tracker", "tokens", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The entry point in a subprocess, off the event loop."""
    return await asyncio.to_thread(tracker, database_url, *args)


async def invoke(database_url: str, *args: str) -> Result:
    """The real `tracker` group in this process, so that it reads the test's clock."""
    env = {"TRACKER_DATABASE_URL": database_url, "TRACKER_LOG_LEVEL": "warning"}
    return await asyncio.to_thread(
        CliRunner().invoke, tracker_command, ["tokens", *args], env=env, prog_name="tracker"
    )


async def registered(repository: Repository, *, active: bool = True) -> Leader:
    leader = Leader.register(uuid.uuid4(), "Amina Okafor", None)
    if not active:
        leader.deactivate("moved away")
    await repository.save(leader, context=SEEDER)
    return leader


async def test_a_leader_token_for_a_leader_nobody_registered_is_refused(
    pool: asyncpg.Pool, database_url: str, repository: Repository
) -> None:
    stranger = uuid.uuid4()
    refused = await run(
        database_url, "issue", "--name", "x", "--kind", "leader", "--leader", str(stranger)
    )

    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == f"error: --leader: no leader {stranger} is registered\n"
    assert await pool.fetchval("SELECT count(*) FROM api_tokens") == 0


async def test_a_leader_token_for_a_deactivated_leader_is_refused(
    pool: asyncpg.Pool, database_url: str, repository: Repository
) -> None:
    gone = await registered(repository, active=False)
    refused = await run(
        database_url, "issue", "--name", "x", "--kind", "leader", "--leader", str(gone.id)
    )

    assert refused.returncode == 1
    assert refused.stderr == f"error: --leader: leader {gone.id} is deactivated\n"
    assert await pool.fetchval("SELECT count(*) FROM api_tokens") == 0


async def test_a_leader_token_for_a_registered_leader_is_issued(
    pool: asyncpg.Pool, database_url: str, repository: Repository
) -> None:
    amina = await registered(repository)
    issued = await run(
        database_url, "issue", "--name", "phone", "--kind", "leader", "--leader", str(amina.id)
    )

    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("trk_")
    assert await pool.fetchval("SELECT leader_id FROM api_tokens") == amina.id


async def test_expires_in_is_counted_from_the_application_clock_and_listed(
    pool: asyncpg.Pool, database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # By module: the package's attribute of the same name is the click group.
    monkeypatch.setattr(sys.modules["tracker.cli.tokens"], "system_now", clock)
    issued = await invoke(
        database_url, "issue", "--name", "temp", "--kind", "auditor", "--expires-in", "30d"
    )
    assert issued.exit_code == 0, issued.output
    token_id, expires_at = await pool.fetchrow("SELECT id, expires_at FROM api_tokens")
    assert expires_at == clock() + timedelta(days=30)

    listed = await invoke(database_url, "list")
    assert listed.exit_code == 0
    assert listed.stdout.split() == [
        str(token_id),
        "auditor",
        "temp",
        "active",
        "expires",
        f"{expires_at:%Y-%m-%dT%H:%M:%SZ}",
    ]
    clock.advance(days=30)
    assert "  expired  expires " in (await invoke(database_url, "list")).stdout


async def test_revoke_through_the_entry_point_refuses_an_unknown_token(
    database_url: str, pool: asyncpg.Pool
) -> None:
    refused = await invoke(database_url, "revoke", str(uuid.uuid4()))
    assert refused.exit_code == 1 and refused.stderr == "error: no such active token\n"


@pytest.mark.parametrize("bad", ["30", "30 days", "0d", "-5m", "1w", "d"])
async def test_an_expiry_that_is_not_a_duration_is_a_usage_error(
    bad: str, pool: asyncpg.Pool, database_url: str
) -> None:
    refused = await invoke(
        database_url, "issue", "--name", "t", "--kind", "admin", "--expires-in", bad
    )

    assert refused.exit_code == 2
    assert "--expires-in" in refused.stderr and "30d" in refused.stderr
    assert await pool.fetchval("SELECT count(*) FROM api_tokens") == 0


@pytest.mark.parametrize(
    ("text", "seconds"), [("45s", 45), ("90m", 5400), ("12h", 43200), ("30d", 2_592_000)]
)
def test_a_duration_takes_seconds_minutes_hours_or_days(text: str, seconds: int) -> None:
    assert tokens.duration(text) == timedelta(seconds=seconds)
