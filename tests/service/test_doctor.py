"""`tracker doctor`: ok on a healthy database, a named failure and a non-zero exit otherwise."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg

from projections.registry import projection_names
from tests.clock import Clock
from tests.eventstore.helpers import CTX, to_stream
from tests.service.test_cli import tracker
from tracker import tokens
from tracker.audit.keys import signing_key
from tracker.eventstore import EventStore
from tracker.observability.doctor import Check, Patient, examine
from tracker.settings import Settings

PROJECTION = sorted(projection_names())[0]


async def doctor(url: str, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `tracker doctor` on a database, with a data folder holding a signing key."""
    await asyncio.to_thread(signing_key, data)
    return await asyncio.to_thread(
        tracker, "doctor", *args, TRACKER_DATABASE_URL=url, TRACKER_DATA_DIR=str(data)
    )


def levels(out: str) -> dict[str, str]:
    """Each check's name and level, from the printed table."""
    found = {}
    for line in out.splitlines():
        level, _, rest = line.partition("  ")
        found[rest.strip().split("  ")[0]] = level.strip()
    return found


async def test_a_healthy_database_passes_with_every_check_printed(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    done = await doctor(database_url, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    found = levels(done.stdout)
    for name in ("database", "settings", "migrations", "horizon", "signing key", "sealer"):
        assert found[name] == "ok", done.stdout
    assert found["disk"] == "ok" and found["tokens"] == "ok"
    assert found[f"projection {PROJECTION}"] in ("ok", "warn")  # stopped, with no server up


async def test_a_failed_projection_fails_the_doctor_naming_it_and_the_way_out(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    await pool.execute(
        "UPDATE projection_generations SET state = 'failed', error = 'KeyError: x', "
        "failed_position = 7 WHERE name = $1",
        PROJECTION,
    )
    done = await doctor(database_url, tmp_path)

    assert done.returncode == 1
    assert levels(done.stdout)[f"projection {PROJECTION}"] == "fail"
    assert "failed at position 7: KeyError: x" in done.stdout
    assert f"tracker projections retry {PROJECTION}" in done.stdout
    assert f"1 problem(s): projection {PROJECTION}" in done.stderr


async def test_missing_migrations_fail_the_doctor(
    new_database: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    done = await doctor(await new_database(), tmp_path)

    assert done.returncode == 1
    assert levels(done.stdout)["migrations"] == "fail"
    assert "run `tracker migrate`" in done.stdout
    assert "0001_event_store.sql" in done.stdout


async def test_an_unreachable_database_fails_the_doctor_with_the_reason(tmp_path: Path) -> None:
    done = await doctor("postgresql://nobody@127.0.0.1:9/none", tmp_path)

    assert done.returncode == 1
    assert levels(done.stdout)["database"] == "fail"
    assert "unreachable" in done.stdout


async def test_warnings_fail_the_doctor_only_when_strict(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    missing_key = Settings(database_url=database_url, data_dir=tmp_path / "none")
    done = await asyncio.to_thread(
        tracker,
        "doctor",
        "--strict",
        TRACKER_DATABASE_URL=database_url,
        TRACKER_DATA_DIR=str(missing_key.data_dir),
    )

    assert done.returncode == 1
    assert levels(done.stdout)["signing key"] == "warn"
    assert "signing key" in done.stderr


def named(checks: list[Check], name: str) -> Check:
    [check] = [c for c in checks if c.name == name]
    return check


async def test_tokens_that_expire_within_two_weeks_are_named(
    pool: asyncpg.Pool, database_url: str, clock: Clock, tmp_path: Path
) -> None:
    await tokens.issue(
        pool, "nightly-import", "integration", expires_at=clock() + timedelta(days=3)
    )
    await tokens.issue(pool, "quarterly", "integration", expires_at=clock() + timedelta(days=30))
    await tokens.issue(pool, "gone", "integration", expires_at=clock() - timedelta(days=1))
    settings = Settings(database_url=database_url, data_dir=tmp_path)

    checks = await examine(Patient(pool, settings, clock))

    found = named(checks, "tokens")
    assert found.level == "warn"
    assert "nightly-import (integration, in 3 d)" in found.detail
    assert "quarterly" not in found.detail and "gone" not in found.detail


async def test_an_event_no_seal_covers_is_a_warning_when_no_seal_was_ever_made(
    pool: asyncpg.Pool, store: EventStore, database_url: str, clock: Clock, tmp_path: Path
) -> None:
    await store.append(to_stream(), context=CTX)
    settings = Settings(database_url=database_url, data_dir=tmp_path, seal_seconds=10)

    checks = await examine(Patient(pool, settings, clock))

    found = named(checks, "sealer")
    assert found.level == "warn"
    assert "1 events and no seal yet" in found.detail
