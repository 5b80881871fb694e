"""`tracker serve` against a test's own cluster, and clients that keep making commitments over
HTTP, each retrying with the same Idempotency-Key until it is answered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.faults.workers import poll
from tests.service.test_serve import free_port
from tracker import tokens
from tracker.application.ports import Context
from tracker.application.principal import LEADER
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Forum, Leader, Purpose
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.migrate import migrate

SEEDER = Context(actor="system:faults")
# A client honours Retry-After, shortened so that the tests stay quick.
RETRY_PAUSE = 0.1
PROBLEM_JSON = "application/problem+json"


class Service:
    """One `tracker serve` process on a port of its own; its output kept in a file."""

    def __init__(self, url: str, folder: Path, **settings: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env |= {
            "TRACKER_DATABASE_URL": url,
            "TRACKER_DATA_DIR": str(folder / "data"),
            "TRACKER_PORT": str(self.port),
            "TRACKER_LOG_LEVEL": "warning",
        }
        env |= {f"TRACKER_{k.upper()}": v for k, v in settings.items()}
        self.log_file = folder / "serve.log"
        with self.log_file.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tracker", "serve"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")

    async def health(self, which: str) -> tuple[int, Any] | None:
        """GET /health/<which>: its status and body, or None when nothing answers."""
        assert self.process.poll() is None, f"serve ended:\n{self.output()}"
        try:
            answer = await self.http.get(f"/health/{which}")
        except httpx.TransportError:
            return None
        return answer.status_code, answer.json()

    async def wait_ready(self, seconds: float) -> float:
        """Poll readiness until 200; the seconds it took."""

        async def ready() -> bool:
            return ((await self.health("ready")) or (0,))[0] == 200

        return await poll(ready, seconds, f"never ready:\n{self.output()}")

    async def end(self) -> None:
        await self.http.aclose()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """One leader making commitments for themselves, one at a time, each until answered."""

    def __init__(self, http: httpx.AsyncClient, token: str, body: dict[str, Any]) -> None:
        self.http, self.body = http, body
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acked: dict[str, dict[str, Any]] = {}  # key: the first 2xx answer's body
        self.refused: set[str] = set()  # keys answered 503 at least once before their 2xx
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[str] = []  # anything but a 2xx or a documented 503
        self.details: set[str] = set()  # the 503s' explanations

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.make(uuid.uuid4().hex)

    async def make(self, key: str) -> httpx.Response:
        """POST /commitments with key until a 2xx (a 503 is retried); the final answer."""
        while True:
            answer = await self.post(key)
            self.statuses[answer.status_code] += 1
            if answer.is_success:
                self.acked.setdefault(key, answer.json())
                return answer
            if answer.status_code == 503 and _documented_503(answer):
                self.refused.add(key)
                self.details.add(answer.json()["detail"])
                await asyncio.sleep(RETRY_PAUSE)
                continue
            self.unexpected.append(f"{answer.status_code} {answer.text}")
            return answer

    async def post(self, key: str) -> httpx.Response:
        headers = self.headers | {"Idempotency-Key": key}
        return await self.http.post("/commitments", json=self.body, headers=headers)


def _documented_503(answer: httpx.Response) -> bool:
    """A 503 as the OpenAPI document declares it: problem details with Retry-After."""
    return (
        answer.headers.get("content-type", "").startswith(PROBLEM_JSON)
        and answer.headers.get("retry-after", "").isdigit()
        and answer.json()["type"].endswith("/database-unavailable")
    )


class Load:
    """Several clients at once, started and stopped together."""

    def __init__(self, clients: list[Client]) -> None:
        self.clients = clients
        self.stop = asyncio.Event()
        self.tasks = [asyncio.create_task(c.run(self.stop)) for c in clients]

    def healthy(self) -> None:
        """Fail at once on an answer that is neither a 2xx nor a documented 503."""
        unexpected = [u for c in self.clients for u in c.unexpected]
        assert not unexpected, unexpected[:3]
        assert not any(t.done() for t in self.tasks), [t.exception() for t in self.tasks]

    def acked(self) -> int:
        return sum(len(c.acked) for c in self.clients)

    def statuses(self) -> Counter[int]:
        return sum((c.statuses for c in self.clients), Counter())

    async def more(self, count: int, seconds: float, service: Service) -> None:
        """Wait until count more commands have been acknowledged."""
        target = self.acked() + count

        async def done() -> bool:
            self.healthy()
            return self.acked() >= target

        await poll(done, seconds, f"no {count} more acknowledged:\n{service.output()[-3000:]}")

    async def finish(self) -> None:
        """Let each client finish the command it is on, and stop."""
        self.stop.set()
        await asyncio.gather(*self.tasks)


async def seed(pool: asyncpg.Pool, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Migrate, then a forum of leaders with a purpose: each leader's token and request body."""
    async with pool.acquire() as conn:
        await migrate(conn)
    repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
    leaders = [Leader.register(uuid.uuid4(), f"Leader {i}") for i in range(count)]
    forum = Forum.convene(uuid.uuid4(), "Warm spaces partnership", leaders[0].id)
    for leader in leaders[1:]:
        forum.join(leader.id)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Nobody is cold this winter", leaders[0].id)
    await repository.save(*leaders, forum, purpose, context=SEEDER)
    body = {
        "forum_id": str(forum.id),
        "description": "Open a hub",
        "purpose_ids": [str(purpose.id)],
    }
    return [
        (await tokens.issue(pool, f"leader-{i}", LEADER, x.id), body | {"owner_id": str(x.id)})
        for i, x in enumerate(leaders)
    ]
