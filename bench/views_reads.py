"""The views benchmark's reads: wrk against `tracker serve` on the loaded store, with the CPU
the API and the database spend, while forums are renamed at a steady rate."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import asyncpg
import psutil
import uvloop

from bench.common import pool_for
from bench.views_data import CTX
from tracker import tokens
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Forum
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

WARM_UP_SECONDS = 2
TARGETS = {"leader view": 20.0, "purpose view": 50.0, "commitment list": None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, token: str, seconds: int) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 in ms, and non-2xx count, from wrk at 16 connections."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p50, p99, int(bad.group(1)) if bad else 0


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


class Renamer:
    """Renames forums, one after another, at a steady rate from a thread of its own.

    Every rename is applied by the commitment views, so each moves their checkpoint: no view
    kept before it may be served after it.
    """

    def __init__(self, url: str, per_second: float) -> None:
        self.url, self.per_second = url, per_second
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.renames = 0

    def __enter__(self) -> Renamer:
        if self.per_second > 0:
            self.thread = threading.Thread(target=lambda: uvloop.run(self._run()))
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    async def _run(self) -> None:
        pool = await pool_for(self.url, 1)
        repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
        forums = [r[0] for r in await pool.fetch("SELECT forum_id FROM forums ORDER BY forum_id")]
        started = time.monotonic()
        try:
            while not self.stop.is_set():
                forum = await repository.get(Forum, forums[self.renames % len(forums)])
                forum.rename(f"{forum.name.split(' #')[0]} #{uuid.uuid4().hex[:6]}")
                await repository.save(forum, context=CTX)
                self.renames += 1
                await asyncio.sleep(
                    max(0, started + self.renames / self.per_second - time.monotonic())
                )
        finally:
            await pool.close()


def read_latency(
    url: str, leader: str, purpose: str, seconds: int, workers: int, cache: bool, writes: float
) -> None:
    """Serve the API on the loaded store and read each view at 16 concurrent connections,
    with forums renamed meanwhile at writes per second."""
    token = asyncio.run(_admin_token(url))
    port = free_port()
    env = os.environ | {
        # Without the cache every read computes its view: the cost a changing store pays.
        "TRACKER_VIEW_CACHE_MB": "32" if cache else "0",
        "TRACKER_DATABASE_URL": url,
        "TRACKER_PORT": str(port),
        "TRACKER_WORKERS": str(workers),
        "TRACKER_LOG_LEVEL": "warning",
        # Sealing a freshly loaded 1M-event log takes a core for a while: not what is measured.
        "TRACKER_SEAL_SECONDS": "0",
    }
    server = subprocess.Popen([sys.executable, "-m", "tracker", "serve"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/health")
        cases = {
            "leader view": f"{base}/leaders/{leader}/commitments",
            "purpose view": f"{base}/purposes/{purpose}/view",
            "commitment list": f"{base}/commitments?limit=50",
        }
        print(
            f"\nreads, {workers} worker(s), view cache {'on (default)' if cache else 'off'}, "
            f"{f'{writes:g} forum renames/s' if writes else 'no writes'}:"
        )
        print(
            f"{'view':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'target p99':>10} "
            f"{'non-2xx':>8} {'api cpu ms/req':>14} {'db cpu ms/req':>13} {'renames':>7}"
        )
        for name, target in cases.items():
            wrk(target, token, WARM_UP_SECONDS)  # new connections, prepared statements, the cache
            with Renamer(url, writes) as renamer:
                before = cpu_seconds(server, url)
                rate, p50, p99, bad = wrk(target, token, seconds)
                api, db = (b - a for a, b in zip(before, cpu_seconds(server, url), strict=True))
            done = rate * seconds
            goal = TARGETS[name]
            print(
                f"{name:<18} {rate:8,.0f} {p50:8.1f} {p99:8.1f} "
                f"{f'< {goal:.0f}' if goal else '-':>10} {bad:>8} "
                f"{api / done * 1000:14.2f} {db / done * 1000:13.2f} {renamer.renames:>7}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def cpu_seconds(server: subprocess.Popen[bytes], url: str) -> tuple[float, float]:
    """CPU used so far by the API server's processes and by the database's sessions on url."""
    # Only this database's backends count, so other work on a shared server is left out.
    pids = asyncio.run(_backend_pids(url))
    api = _cpu([psutil.Process(server.pid)], children=True)
    db = _cpu([psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)], children=False)
    return api, db


def _cpu(processes: list[psutil.Process], children: bool) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            family = [process, *process.children(recursive=True)] if children else [process]
            for p in family:
                times = p.cpu_times()
                total += times.user + times.system
    return total


async def _backend_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r[0] for r in rows]


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not come up")


async def _admin_token(url: str) -> str:
    pool = await pool_for(url, 1)
    try:
        return await tokens.issue(pool, "bench-views", "admin")
    finally:
        await pool.close()


AS_OF_TARGET_MS, AS_OF_RATIO = 50.0, 2.0
REQUESTS = Path(__file__).resolve().parent / "requests.lua"


def as_of_latency(url: str, leader: str, purpose: str, seconds: int, workers: int) -> None:
    """Read the leader, purpose and meeting views live, then as of random past positions, at
    16 concurrent connections on one server (view cache off, so every live read computes too)."""
    token = asyncio.run(_admin_token(url))
    meeting = asyncio.run(_meeting(url))
    port = free_port()
    env = os.environ | {
        "TRACKER_VIEW_CACHE_MB": "0",
        # wrk's 16 connections may each have a read under way and the next one sent.
        "TRACKER_VIEW_READS_PER_TOKEN": "64",
        "TRACKER_DATABASE_URL": url,
        "TRACKER_PORT": str(port),
        "TRACKER_WORKERS": str(workers),
        "TRACKER_LOG_LEVEL": "warning",
        "TRACKER_SEAL_SECONDS": "0",
    }
    server = subprocess.Popen([sys.executable, "-m", "tracker", "serve"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/health")
        cases = {
            "leader view": (leader, f"/leaders/{leader}/commitments"),
            "purpose view": (purpose, f"/purposes/{purpose}/view"),
            "meeting view": (meeting, f"/meetings/{meeting}/view"),
        }
        print(f"\nreads as of random past positions, {workers} worker(s), view cache off:")
        print(
            f"{'view':<14} {'live p50':>9} {'live p99':>9} {'as_of p50':>9} {'as_of p99':>9} "
            f"{'target':>7} {'ratio':>6} {'non-2xx':>8}"
        )
        for name, (stream_id, path) in cases.items():
            positions = asyncio.run(_positions(url, stream_id))
            live = _script_run(base, [path], token, seconds)
            past = _script_run(base, [f"{path}?as_of={p}" for p in positions], token, seconds)
            ratio = past[2] / live[2] if live[2] else float("nan")
            print(
                f"{name:<14} {live[1]:9.1f} {live[2]:9.1f} {past[1]:9.1f} {past[2]:9.1f} "
                f"{f'< {AS_OF_TARGET_MS:.0f}':>7} {ratio:6.2f} {live[3] + past[3]:>8}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def _script_run(
    base: str, paths: list[str], token: str, seconds: int
) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 in ms, and non-2xx, of wrk cycling through paths (after a
    warm-up)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as lines:
        for path in paths:
            lines.write(f"GET\t{path}\t{token}\t\n")
    try:
        for duration in (WARM_UP_SECONDS, seconds):
            command = [
                "wrk",
                "-t2",
                "-c16",
                f"-d{duration}s",
                "--timeout",
                "30s",
                "-s",
                str(REQUESTS),
            ]
            out = subprocess.run(
                [*command, base, "--", lines.name, "2"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        found = re.search(
            r"bench: requests=(\d+) micros=(\d+) p50=(\d+) p99=(\d+) non2xx=(\d+)", out
        )
        assert found is not None, out
        requests, micros, p50, p99, bad = (int(g) for g in found.groups())
        first = re.search(r"bench-first-error: (.*)", out)
        if first:
            print(f"  first non-2xx of {paths[0]}: {first.group(1)[:200]}", flush=True)
        return requests / (micros / 1e6), p50 / 1000, p99 / 1000, bad
    finally:
        os.unlink(lines.name)


async def _meeting(url: str) -> str:
    """A meeting with attendance recorded, the first by id: a typical one (the largest forum's
    latest meeting reads a year of its changes, over a second live)."""
    conn = await asyncpg.connect(url)
    try:
        meeting: str = await conn.fetchval(
            "SELECT meeting_id::text FROM meeting_attendance ORDER BY meeting_id LIMIT 1"
        )
    finally:
        await conn.close()
    return meeting


async def _positions(url: str, stream_id: str) -> list[int]:
    """500 random positions of the log after the stream's first event (it existed then)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT position FROM events WHERE (transaction_id, position) > "
            "(SELECT transaction_id, position FROM events WHERE stream_id = $1::uuid "
            " ORDER BY transaction_id, position LIMIT 1) ORDER BY random() LIMIT 500",
            stream_id,
        )
    finally:
        await conn.close()
    return [r[0] for r in rows]
