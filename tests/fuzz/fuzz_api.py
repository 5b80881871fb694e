"""Schemathesis over the OpenAPI document, against a real server on a seeded, migrated database.

Not collected by the suite (the file name does not start with test_): `.ci/run` runs it on its
own, with `uv run pytest tests/fuzz/fuzz_api.py`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from tests.api.seed import SEEDER, seed_world
from tests.clock import START
from tests.conftest import ROOT
from tracker import tokens
from tracker.domain import Agreement, Commitment, Meeting
from tracker.eventstore.repository import Repository

SCHEMA = ROOT / "openapi" / "openapi.json"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Test cases per operation and phase: enough to reach every branch of input checking cheaply.
EXAMPLES = 5


@dataclass(frozen=True)
class Seeded:
    """The ids every path parameter is pinned to, so requests reach the domain."""

    ids: dict[str, uuid.UUID]
    leader_id: uuid.UUID


async def seed(repository: Repository) -> Seeded:
    """One forum with three members, a purpose, a meeting, a commitment and an agreement."""
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    amina, ben = world.id("amina"), world.id("ben")
    meeting = Meeting.schedule(uuid.uuid4(), world.forum.id, "November", START, "Town Hall")
    commitment = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=ben,
        by=amina,
        description="Open the library on Saturdays",
        purpose_ids=[world.purpose.id],
        made_on=START.date(),
        due_on=(START + timedelta(days=14)).date(),
    )
    agreement = Agreement.propose(
        uuid.uuid4(), "forum", world.forum.id, "decision_rule", "Consent", "By consent", amina
    )
    await repository.save(meeting, commitment, agreement, context=SEEDER)
    ids = {
        "forum_id": world.forum.id,
        "purpose_id": world.purpose.id,
        "meeting_id": meeting.id,
        "commitment_id": commitment.id,
        "agreement_id": agreement.id,
        "organisation_id": world.organisations["amina"].id,
        "leader_id": ben,
        "stream_id": commitment.id,
    }
    return Seeded(ids=ids, leader_id=amina)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`tracker serve` on the test database; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_PORT": str(port),
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_LOG_LEVEL": "warning",
        # Subscriptions the fuzzer makes name made-up hosts: nothing is delivered to them.
        "TRACKER_RUN_DELIVERIES": "off",
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server never answered /health")


def config(path: Path, token: str, seeded: Seeded) -> Path:
    """A schemathesis.toml: the caller's token, and every path id pinned to the seeded one."""
    lines = [
        f'headers = {{ Authorization = "Bearer {token}" }}',
        "",
        # Steering generation towards inputs the API accepts cost a leader's run half its time
        # on operations only admins may call, where every input is refused alike.
        "[phases.fuzzing.error-feedback]",
        "enabled = false",
        "",
        "[parameters]",
    ]
    lines += [f'"path.{name}" = "{value}"' for name, value in seeded.ids.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def fuzz(url: str, settings: Path, report: Path) -> str:
    """One schemathesis run; its output, after asserting that nothing failed."""
    run = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("schemathesis_cli.py")),
            "--config-file",
            str(settings),
            "run",
            str(SCHEMA),
            "--url",
            url,
            "--checks",
            CHECKS,
            # A followed event stream never ends by design; tests/faults/test_sse_restart.py
            # and the access matrix read it.
            "--exclude-operation-id",
            "streamEvents",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "1",
            "--workers",
            "2",
            "--request-timeout",
            "10",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=480,
        cwd=settings.parent,
    )
    # The totals (operations, test cases, failures), for the CI log.
    print(run.stdout[run.stdout.rfind("SUMMARY") :])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
    return run.stdout


# Each run took about a minute on two cores before the commands declared their headers, which
# add test cases to every command; the limits leave room for those and for a loaded machine.
@pytest.mark.timeout(1000)
async def test_no_operation_fails_a_check_as_a_leader_or_an_admin(
    repository: Repository, pool: asyncpg.Pool, server: str, tmp_path: Path
) -> None:
    seeded = await seed(repository)
    # The leader first: the admin's run may deactivate them.
    for kind, leader_id in (("leader", seeded.leader_id), ("admin", None)):
        token = await tokens.issue(pool, f"fuzz-{kind}", kind, leader_id)
        settings = config(tmp_path / f"{kind}.toml", token, seeded)
        fuzz(server, settings, tmp_path / f"{kind}.xml")
