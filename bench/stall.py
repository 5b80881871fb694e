"""One caller against everyone: light reads while four clients ask for the heaviest views.

    uv run python bench/stall.py [--commitments 200000] [--seconds 20] [--database memory]

Seeds a fresh database (TRACKER_BENCH_DATABASE_URL's server, or with --database memory an
embedded PostgreSQL in /dev/shm) with a leader owning --commitments commitments, all citing one
purpose, beside a light leader owning 10; starts `tracker serve` (--workers, default one), which
builds the views from the log in bulk; then measures one client reading `/health` and the light
leader's view one request after another, first alone (the baseline) and then while four clients
in a process of their own, sharing one admin token, ask without pause for the heavy leader's
view, and for it and the purpose view `as_of` random past positions. It prints p50/p99 of the
light requests in both rounds with their ratio, the server's peak resident memory (all its
processes), and how the heavy requests were answered (200, 429, 503). Targets: light p99 under
100 ms, server memory under 400 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil

from bench.common import SERVER, fresh_database, pool_for, table
from bench.serving import in_memory, serving
from tracker import tokens
from tracker.application.ports import Context
from tracker.application.principal import ADMIN, LEADER
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Commitment, Forum, Leader, Purpose
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

DATABASE = "tracker_bench_stall"
CTX = Context(actor="system:bench", source="bench/stall.py")
HEAVY_CLIENTS, LIGHT_COMMITMENTS, BATCH = 4, 10, 1_000
HEAVY = ("leader view", "leader view as_of", "purpose view as_of")
TARGET_P99_MS, TARGET_RSS_MB = 100.0, 400.0


@dataclass
class Seeded:
    """The ids and tokens the runs read."""

    heavy: uuid.UUID
    light: uuid.UUID
    purpose: uuid.UUID
    light_token: str
    admin_token: str
    last_position: int


async def seed(url: str, commitments: int) -> Seeded:
    """A forum of two leaders and a purpose; the heavy leader's commitments, four appends at a
    time of a thousand streams each."""
    pool = await pool_for(url, 4)
    repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
    heavy, light = Leader.register(uuid.uuid4(), "Heavy"), Leader.register(uuid.uuid4(), "Light")
    forum = Forum.convene(uuid.uuid4(), "Warm spaces partnership", heavy.id)
    forum.join(light.id)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Nobody is cold this winter", heavy.id)
    await repository.save(heavy, light, forum, purpose, context=CTX)
    owners = [light.id] * LIGHT_COMMITMENTS + [heavy.id] * commitments
    started = time.monotonic()

    async def append(start: int) -> None:
        made = [
            Commitment.make(
                uuid.uuid4(),
                forum_id=forum.id,
                owner_id=owner,
                by=owner,
                description="Open the library as a warm space on weekday evenings",
                purpose_ids=[purpose.id],
                made_on=date(2026, 11, 1),
                due_on=date(2027, 1, 1 + i % 28),
            )
            for i, owner in enumerate(owners[start : start + BATCH])
        ]
        await repository.save(*made, context=CTX)

    starts = list(range(0, len(owners), BATCH))
    for i in range(0, len(starts), 4):
        await asyncio.gather(*(append(s) for s in starts[i : i + 4]))
    print(f"seeded {len(owners):,} commitments in {time.monotonic() - started:.0f} s", flush=True)
    light_token = await tokens.issue(pool, "bench-light", LEADER, light.id)
    admin_token = await tokens.issue(pool, "bench-heavy", ADMIN)
    last = int(await pool.fetchval("SELECT max(position) FROM events"))
    await pool.execute("VACUUM ANALYZE")
    await pool.close()
    return Seeded(heavy.id, light.id, purpose.id, light_token, admin_token, last)


class Memory:
    """The peak resident memory of a process and its children, sampled from a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.05):
            total = 0
            with contextlib.suppress(psutil.Error):
                for p in [self.process, *self.process.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            self.peak = max(self.peak, total)

    def __enter__(self) -> Memory:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


async def light_round(base: str, seeded: Seeded, seconds: float) -> dict[str, list[float]]:
    """Latencies in ms of /health and of the light leader's view, one request at a time."""
    timings: dict[str, list[float]] = {"health": [], "light view": []}
    view = f"{base}/leaders/{seeded.light}/commitments"
    auth = {"Authorization": f"Bearer {seeded.light_token}"}
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < stop:
            requests = (("health", f"{base}/health", {}), ("light view", view, auth))
            for name, url, headers in requests:
                started = time.perf_counter()
                response = await client.get(url, headers=headers)
                timings[name].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    sys.exit(f"{name} answered {response.status_code}: {response.text[:200]}")
    return timings


async def heavy_client(
    base: str, seeded: Seeded, kinds: list[str], stop: Stop, seen: Counter[str]
) -> None:
    """The heaviest requests, one after another, each body read and thrown away."""
    rng = random.Random()
    auth = {"Authorization": f"Bearer {seeded.admin_token}"}
    leader = f"{base}/leaders/{seeded.heavy}/commitments"
    purpose = f"{base}/purposes/{seeded.purpose}/view"
    async with httpx.AsyncClient(timeout=300) as client:
        while not stop.is_set():
            kind = rng.choice(kinds)
            position = rng.randint(1, seeded.last_position)
            params = {} if kind == "leader view" else {"as_of": position}
            url = leader if kind.startswith("leader") else purpose
            try:
                async with client.stream("GET", url, params=params, headers=auth) as response:
                    async for _ in response.aiter_raw():
                        pass
                seen[f"{kind} {response.status_code}"] += 1
            except httpx.HTTPError as error:
                seen[f"{kind} {type(error).__name__}"] += 1


class Stop(Protocol):
    """An event the heavy clients poll between requests."""

    def is_set(self) -> bool: ...


def heavy_load(
    base: str, seeded: Seeded, kinds: list[str], started: Any, stop: Any, answers: Any
) -> None:
    """The heavy clients, in a process of their own until stop is set; their answers' count."""

    async def run() -> Counter[str]:
        seen = Counter[str]()
        clients = [heavy_client(base, seeded, kinds, stop, seen) for _ in range(HEAVY_CLIENTS)]
        started.set()
        await asyncio.gather(*clients)
        return seen

    answers.put(asyncio.run(run()))


def loaded_round(
    base: str, seeded: Seeded, kinds: list[str], seconds: float
) -> tuple[dict[str, list[float]], Counter[str]]:
    """The light round while the heavy clients run; how the heavy requests were answered."""
    # The heavy clients parse their answers in another process: in the light client's, its
    # requests would be timed waiting for that work as well as for the server.
    context = multiprocessing.get_context("spawn")
    started, stop, answers = context.Event(), context.Event(), context.Queue()
    heavy = context.Process(
        target=heavy_load, args=(base, seeded, kinds, started, stop, answers), daemon=True
    )
    heavy.start()
    if not started.wait(60):
        sys.exit("the heavy clients did not start")
    timings = asyncio.run(light_round(base, seeded, seconds))
    stop.set()
    seen: Counter[str] = answers.get(timeout=600)
    heavy.join()
    return timings, seen


async def caught_up(base: str, seeded: Seeded) -> None:
    """Wait until every projection has applied the whole log."""
    auth = {"Authorization": f"Bearer {seeded.admin_token}"}
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(6000):
            rows = (await client.get(f"{base}/projections", headers=auth)).json()
            if all(r["lag_events"] == 0 for r in rows if r["state"] == "running"):
                return
            await asyncio.sleep(0.1)
    sys.exit("the projections did not catch up within ten minutes")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(base: dict[str, list[float]], loaded: dict[str, list[float]]) -> None:
    rows = []
    for name in base:
        b50, b99 = percentile(base[name], 0.5), percentile(base[name], 0.99)
        l50, l99 = percentile(loaded[name], 0.5), percentile(loaded[name], 0.99)
        rows.append([name, len(loaded[name]), b50, b99, l50, l99, l50 / b50, l99 / b99])
    header = ["request", "n loaded", "p50 alone", "p99 alone", "p50 loaded", "p99 loaded"]
    print(table([*header, "p50 ratio", "p99 ratio"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commitments", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=20, help="length of each round")
    parser.add_argument("--database", choices=("server", "memory"), default="server")
    parser.add_argument(
        "--heavy", nargs="+", choices=HEAVY, default=list(HEAVY), help="the heavy requests sent"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    # As bench/serving.py runs the service: `python -m tracker serve`.
    args.server, args.projections = "granian", "inside"
    with in_memory() if args.database == "memory" else contextlib.nullcontext(SERVER) as server:
        url = asyncio.run(fresh_database(DATABASE, server))
        seeded = asyncio.run(seed(url, args.commitments))
        started = time.monotonic()
        with serving(args, url, "service") as (base, pids):
            asyncio.run(caught_up(base, seeded))
            print(f"views built and caught up in {time.monotonic() - started:.0f} s", flush=True)
            with Memory(pids[0]) as memory:
                alone = asyncio.run(light_round(base, seeded, args.seconds))
                idle_peak = memory.peak
                loaded, seen = loaded_round(base, seeded, args.heavy, args.seconds)
    print(
        f"{args.commitments:,} commitments for one leader; {os.cpu_count()} cores; "
        f"{args.workers} worker(s); {args.seconds:g} s per round; database "
        + ("in memory" if args.database == "memory" else "on its server")
    )
    report(alone, loaded)
    peak = memory.peak / 2**20
    print(
        f"server peak RSS: {peak:.0f} MB loaded (target < {TARGET_RSS_MB:.0f} MB), "
        f"{idle_peak / 2**20:.0f} MB alone; ratio {peak / max(1, idle_peak / 2**20):.2f}"
    )
    light_p99 = percentile(loaded["light view"], 0.99)
    print(f"light view p99 loaded {light_p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms)")
    print("heavy requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(seen.items())))
    by_status = Counter({s: 0 for s in ("200", "429", "503")})
    for key, count in seen.items():
        by_status[key.rsplit(" ", 1)[1]] += count  # an error's name when no answer came
    print("heavy by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))


if __name__ == "__main__":
    main()
