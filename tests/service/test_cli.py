"""The `tracker` command line: its help, bad settings, and the tokens commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
from click.testing import CliRunner

from tracker.cli import tracker as tracker_command

COMMANDS = [
    "serve",
    "migrate",
    "openapi",
    "access",
    "tokens issue",
    "tokens list",
    "tokens revoke",
    "projections run",
    "projections status",
    "projections rebuild",
    "projections retry",
    "projections drop",
    "deliveries run",
    "audit seal",
    "audit export",
    "audit import",
    "audit verify",
    "audit checkpoints",
    "audit rotate-key",
    "db status",
    "db stop",
    "doctor",
]


def tracker(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user would, with only the given TRACKER_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        env=clean | {"TRACKER_LOG_LEVEL": "warning"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_every_command_on_a_line_of_its_own() -> None:
    shown = CliRunner().invoke(tracker_command, ["--help"], prog_name="tracker", terminal_width=80)

    assert shown.exit_code == 0
    lines = shown.output.split("Commands:\n")[1].strip().splitlines()
    assert len(lines) == len(COMMANDS)
    for line, command in zip(lines, COMMANDS, strict=True):
        name, _, summary = line.strip().partition("  ")
        assert name == command and summary.strip()


def test_a_bad_setting_is_reported_by_its_variable_without_a_traceback() -> None:
    refused = tracker("migrate", TRACKER_WORKERS="none")

    assert refused.returncode == 2
    assert refused.stderr == "error: TRACKER_WORKERS: expected int, got 'none'\n"


def test_a_setting_out_of_bounds_is_reported_with_its_bound() -> None:
    refused = tracker("tokens", "list", TRACKER_PORT="70000")

    assert refused.returncode == 2
    assert refused.stderr == "error: TRACKER_PORT: expected int <= 65535, got '70000'\n"


async def test_tokens_are_issued_listed_and_revoked(pool: asyncpg.Pool, database_url: str) -> None:
    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(tracker, "tokens", *args, TRACKER_DATABASE_URL=database_url)

    issued = await run(
        "issue",
        "--name",
        "minutes bot",
        "--kind",
        "integration",
        "--forum",
        "00000000-0000-0000-0000-000000000001",
    )
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("trk_")
    token_id = await pool.fetchval("SELECT id FROM api_tokens")

    listed = await run("list")
    assert listed.stdout.split() == [
        str(token_id),
        "integration",
        "minutes",
        "bot",
        "active",
        "no-expiry",
    ]

    assert (await run("revoke", str(token_id))).returncode == 0
    again = await run("revoke", str(token_id))
    assert again.returncode == 1 and again.stderr == "error: no such active token\n"
    assert "revoked" in (await run("list")).stdout


def test_a_moment_without_its_offset_is_refused_before_anything_runs() -> None:
    refused = tracker("audit", "export", "--since", "2026-01-01T09:00")

    assert refused.returncode == 2
    assert "needs a time zone offset" in refused.stderr
