"""Views benchmark: rebuild speed and memory over ~1,000,000 events, and read latency.

    python bench/views.py [--scale 1.0] [--seconds 10] [--reuse] [--database NAME]
                          [--only rebuild|reads] [--workers 1] [--writes 20]

Loads a realistic store (bench/views_data.py) into a fresh database on
TRACKER_BENCH_DATABASE_URL's server (default: the local PostgreSQL), rebuilds every projection
with `tracker projections rebuild` in a child process (time, events/s, peak memory), then serves
the API with `tracker serve` and reads the leader view, the purpose view and the first page of
the commitment list with wrk at 16 connections (p50/p99 latency, after a 2 s warm-up): with the
view cache (the default) and without it, where every read computes its view; and both again
while forums are renamed at --writes per second (each rename moves the commitment views'
checkpoint, so no view kept before it may be served after it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import msgspec
import psutil
import uvloop

from bench.common import SERVER, fetch_value, fresh_database, pool_for, url_for
from bench.views_data import CTX, Store
from projections.registry import all_projections
from tracker import tokens
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Forum
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

DATABASE = "tracker_bench_views"
WARM_UP_SECONDS = 2
TARGETS = {"leader view": 20.0, "purpose view": 50.0, "commitment list": None}


async def load(url: str, scale: float) -> Store:
    """Generate the store through the domain and append it, a few hundred aggregates per append."""
    pool = await pool_for(url, 4)
    repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
    store = Store(scale)
    started, events = time.monotonic(), 0
    for batch in store.batches():
        if batch:
            saved = await repository.save(*batch, context=CTX)
            events += len(saved.events)
    print(f"loaded {events:,} events in {time.monotonic() - started:.0f} s", flush=True)
    database = url.rsplit("/", 1)[1].split("?")[0]
    await pool.execute(
        f"COMMENT ON DATABASE {database} IS '{store.busy_leader} {store.busy_purpose}'"
    )
    await pool.execute("VACUUM ANALYZE")
    await pool.close()
    return store


async def busy_ids(url: str) -> tuple[str, str]:
    """The leader and purpose the loader made busy (kept in the database comment for --reuse)."""
    conn = await asyncpg.connect(url)
    try:
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            url.rsplit("/", 1)[1].split("?")[0],
        )
    finally:
        await conn.close()
    leader, purpose = comment.split()
    return leader, purpose


def rebuild_all(url: str) -> None:
    """Rebuild each projection alone, then all together (`rebuild --all`, one read of the log),
    each in a child process; report time, speed and peak memory."""
    events = int(asyncio.run(fetch_value(url, "SELECT count(*) FROM events")))
    # The same machine's speed in the same run: reading and decoding the log, and nothing else.
    read = uvloop.run(_read_log(url))
    print(f"log read and decoded alone: {read:.1f} s, {events / read:,.0f} events/s", flush=True)
    for projection in all_projections():
        seconds, peak = _rebuild(url, [projection.name])
        print(
            f"rebuild {projection.name:<24} {seconds:6.1f} s  {events / seconds:9,.0f} events/s  "
            f"peak memory {peak / 2**20:,.0f} MB (target < 300)",
            flush=True,
        )
    seconds, peak = _rebuild(url, ["--all"])
    print(
        f"rebuild of all views (--all): {seconds:.1f} s, "
        f"{events / seconds:,.0f} events/s of log (target 100,000), "
        f"{read / seconds:.2f}x the plain read, peak memory {peak / 2**20:,.0f} MB (target < 300)",
        flush=True,
    )


async def _read_log(url: str) -> float:
    """Seconds to read every event in global order, decoding each payload."""
    conn = await asyncpg.connect(url)
    try:
        started = time.monotonic()
        async with conn.transaction(readonly=True):
            cursor = await conn.cursor(
                "SELECT position, stream_id, stream_type, version, type, payload::text, "
                "occurred_at, actor FROM events ORDER BY transaction_id, position"
            )
            while rows := await cursor.fetch(10_000):
                for row in rows:
                    msgspec.json.decode(row[5])
        return time.monotonic() - started
    finally:
        await conn.close()


def _rebuild(url: str, arguments: list[str]) -> tuple[float, int]:
    """Run `tracker projections rebuild` in a child process: seconds taken, peak RSS bytes."""
    env = os.environ | {"TRACKER_DATABASE_URL": url, "TRACKER_LOG_LEVEL": "warning"}
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "tracker", "projections", "rebuild", *arguments],
        env=env,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    peak = 0
    while child.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, psutil.Process(child.pid).memory_info().rss)
        time.sleep(0.05)
    if child.returncode != 0:
        raise RuntimeError(f"rebuild {' '.join(arguments)} failed")
    return time.monotonic() - started, peak


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
    import urllib.request

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 is ~1,000,000 events")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--workers", type=int, default=1, help="API worker processes (TRACKER_WORKERS default)"
    )
    parser.add_argument(
        "--writes", type=float, default=20, help="forum renames per second in the second round"
    )
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--database", default=DATABASE, help="name of the database to load")
    parser.add_argument(
        "--only", choices=("rebuild", "reads"), help="measure only the rebuild or only the reads"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the read latencies: apt-get install wrk")
    url = url_for(args.database)
    if not args.reuse:
        url = uvloop.run(fresh_database(args.database))
        uvloop.run(load(url, args.scale))
    print(f"PostgreSQL at {SERVER.rsplit('/', 1)[0]}; {os.cpu_count()} cores", flush=True)
    if args.only != "reads":
        rebuild_all(url)
    if args.only != "rebuild":
        leader, purpose = uvloop.run(busy_ids(url))
        for writes in (0, args.writes):
            for cache in (True, False):
                read_latency(url, leader, purpose, args.seconds, args.workers, cache, writes)


if __name__ == "__main__":
    main()
