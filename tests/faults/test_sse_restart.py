"""GET /events/stream from a real server: Last-Event-ID resumes across a restart with nothing
skipped and nothing repeated, and heartbeats keep an idle stream talking."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.api.seed import seed_world
from tests.clock import Clock
from tests.faults.workers import poll
from tests.feed.streams import commitments
from tests.fuzz.fuzz_api import free_port
from tracker import tokens
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

TYPES = "type=commitment.made&type=commitment.accepted"


class Server:
    """`tracker serve` on the fault database, started and stopped by the test."""

    def __init__(self, url: str, folder: Path) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        self.env |= {
            "TRACKER_DATABASE_URL": url,
            "TRACKER_PORT": str(self.port),
            "TRACKER_DATA_DIR": str(folder / "data"),
            "TRACKER_LOG_LEVEL": "warning",
            "TRACKER_SEAL_SECONDS": "0",
            "TRACKER_RUN_DELIVERIES": "off",
            "TRACKER_SSE_HEARTBEAT_SECONDS": "0.2",
        }
        self.log = folder / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tracker", "serve"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        self.spawn()

        async def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.base}/health")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(healthy, 60, "the server never answered /health")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def server(fault_url: str, tmp_path: Path) -> Iterator[Server]:
    made = Server(fault_url, tmp_path)
    yield made
    made.stop()


async def read(
    server: Server, token: str, count: int, last_id: str | None
) -> tuple[list[str], int]:
    """The ids of the next `count` messages, and how many heartbeats came with them."""
    headers = {"Authorization": f"Bearer {token}"}
    if last_id is not None:
        headers["Last-Event-ID"] = last_id
    ids: list[str] = []
    beats = 0
    async with (
        asyncio.timeout(30),
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "GET", f"{server.base}/events/stream?start=beginning&{TYPES}", headers=headers
        ) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            beats += line == ": heartbeat"
            if line.startswith("id: "):
                ids.append(line[4:])
            if len(ids) == count and beats:
                break
    return ids, beats


async def test_last_event_id_resumes_across_a_restart_with_nothing_skipped_or_repeated(
    fault_pool: asyncpg.Pool, server: Server, clock: Clock
) -> None:
    repository = Repository(
        EventStore(fault_pool, poll_interval=0.01, now=clock),
        EventMapper(EVENT_TYPES, STREAM_TYPES),
    )
    world = await seed_world(repository)
    await commitments(world, clock, 5, progress=1)
    token = await tokens.issue(fault_pool, "sse", "admin", None)
    await server.start()
    first, beats = await read(server, token, 10, None)
    assert beats >= 1, "an idle stream sends heartbeats"
    server.stop()
    await commitments(world, clock, 3, progress=1)
    await server.start()
    rest, _ = await read(server, token, 6, first[-1])
    expected = await fault_pool.fetch(
        "SELECT transaction_id::text || ':' || position FROM events"
        " WHERE type IN ('commitment.made', 'commitment.accepted')"
        " ORDER BY transaction_id, position"
    )
    assert first + rest == [r[0] for r in expected]
