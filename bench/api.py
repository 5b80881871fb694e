"""HTTP throughput of the real server against baselines served the same way, driven by wrk.

    uv run python bench/api.py [--seconds 10] [--connections 64] [--workers 2] [--server granian]
                               [--projections inside|apart] [--only make progress ...]
    uv run python bench/api.py --server uvicorn      # the other candidate, for comparison
    uv run python bench/api.py --database memory     # no commit waits for a disk

Needs wrk (`apt-get install -y wrk`) and a PostgreSQL server (TRACKER_BENCH_DATABASE_URL,
default the local one on 5432), where it creates a fresh database. The service runs as
`python -m tracker serve` (granian) or under uvicorn; the baselines in bench/baseline_app.py
run under the same server with the same options. wrk and the servers share the machine's cores.
req/s and p50/p99 latency come from wrk; "CPU ms/req" is the CPU time the server's processes
spent per request (from /proc), which other load on the machine disturbs less than req/s, and
"db CPU ms/req" the same for all of PostgreSQL's processes (a local server is assumed), and
"WAL KB/req" the write-ahead log the server wrote per request (pg_stat_wal, so the whole server).
"disk stalls" counts the times the database's disk took over 50 ms to sync a small write
during the run (bench/disk.py probes it every 10 ms): each one holds up every commit in flight.
With --database memory the runs use an embedded PostgreSQL whose data lives in /dev/shm, which
takes the disk out of the figures (and out of the guarantees: it is for measuring only).
With --projections apart the service runs as deployments that scale the two apart do: the API
with TRACKER_RUN_PROJECTIONS=off and `python -m tracker projections run` beside it, whose CPU
counts too. Other server settings pass through the environment.
Each run follows an unmeasured warm-up as long as itself, so that the service is measured in
its steady state, every worker having loaded the aggregates the run touches. The baselines are
measured again after the service, and ratios are taken to the mean of their two runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec

from bench.baseline_app import INSERT, TABLE
from bench.common import SERVER, fetch_value, fresh_database, table
from bench.disk import STALL_MS, Stalls, data_directory, probe_folder, probing, stalls
from tracker import tokens
from tracker.application.ports import Context
from tracker.application.principal import ADMIN, LEADER
from tracker.database import create_pool, start_embedded, stop_embedded
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Commitment, Forum, Leader, Purpose
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LUA = ROOT / "bench" / "requests.lua"
LEADERS, STREAMS = 8, 2000  # leaders with a token each; commitments to report progress on
WRK_THREADS = 2  # one per core
SEEDER = Context(actor="system:bench")
# The options `tracker serve` gives uvicorn.run (tracker/cli/service.py serve), and granian's.
OPTIONS = {
    "uvicorn": ["--loop", "uvloop", "--http", "httptools", "--no-access-log"],
    "granian": ["--interface", "asgi", "--loop", "uvloop", "--http", "1", "--no-access-log"],
}
FACTORIES = {"service": "tracker.api.app:create_app", "baseline": "bench.baseline_app:create_app"}
TARGET_RATIO, TARGET_P99_MS = 0.6, 100.0
# name: (label, app serving it, baseline it is compared with)
RUNS = {
    "hello": ("litestar hello-world  GET /hello", "baseline", None),
    "insert": ("bare INSERT  POST /rows", "baseline", None),
    "select": ("bare SELECT by key  GET /rows/{id}", "baseline", None),
    "make": ("POST /commitments", "service", "insert"),
    "progress": ("POST /commitments/{id}/progress-reports", "service", "insert"),
    "get": ("GET /commitments/{id}  (10 events)", "service", "select"),
}
Line = tuple[str, str, str, object]  # method, path, token, JSON body (None for none)


class Result(NamedTuple):
    """One wrk run's figures."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # CPU time of all the server's processes, per request
    db_cpu_ms: float  # CPU time of all PostgreSQL's processes, per request
    wal_kb: float  # WAL the database server wrote, per request
    non2xx: int
    socket_errors: int
    first_error: str
    disk: Stalls | None  # what the disk probe saw during the run


async def seed(url: str) -> dict[str, list[Line]]:
    """A forum of leaders with tokens and commitments; return each run's requests."""
    pool = await create_pool(url, size=2)
    repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
    leaders = [Leader.register(uuid.uuid4(), f"Leader {i}") for i in range(LEADERS)]
    forum = Forum.convene(uuid.uuid4(), "Warm spaces partnership", leaders[0].id)
    for leader in leaders[1:]:
        forum.join(leader.id)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Nobody is cold this winter", leaders[0].id)
    await repository.save(*leaders, forum, purpose, context=SEEDER)
    token = {x.id: await tokens.issue(pool, "bench", LEADER, x.id) for x in leaders}
    admin = await tokens.issue(pool, "bench-admin", ADMIN)
    terms = {"forum_id": forum.id, "purpose_ids": [purpose.id], "made_on": date.today()}
    owners = [leaders[i % LEADERS].id for i in range(STREAMS + 1)]
    made = [
        Commitment.make(uuid.uuid4(), owner_id=o, by=o, description="Hub", **terms) for o in owners
    ]
    read, reported = made[0], made[1:]
    for percent in range(10, 100, 10):  # Made and 9 progress reports: 10 events
        read.report_progress(read.owner_id, percent, "on track")
    for start in range(0, len(made), 500):
        await repository.save(*made[start : start + 500], context=SEEDER)
    await pool.execute(TABLE)

    # A leader's commitment for themselves: the body of POST /commitments (and of the bare INSERT).
    body = {"forum_id": forum.id, "description": "Open a hub", "purpose_ids": [purpose.id]}
    make = {x.id: body | {"owner_id": x.id} for x in leaders}

    def progress(i: int, c: Commitment) -> Line:
        """A progress report with a note, so that progress may go down."""
        report = {"percent": i * 37 % 101, "note": "weekly check-in"}
        return ("POST", f"/commitments/{c.id}/progress-reports", token[c.owner_id], report)

    row = await pool.fetchval(INSERT, uuid.uuid4(), make[leaders[0].id])
    await pool.close()
    return {
        "hello": [("GET", "/hello", "", None)],
        "insert": [("POST", "/rows", "", make[leaders[0].id])],
        "select": [("GET", f"/rows/{row}", "", None)],
        "make": [("POST", "/commitments", token[x.id], make[x.id]) for x in leaders],
        "progress": [progress(i, c) for i, c in enumerate(reported)],
        "get": [("GET", f"/commitments/{read.id}", admin, None)],
    }


@contextmanager
def serving(args: argparse.Namespace, url: str, app: str) -> Iterator[tuple[str, list[int]]]:
    """Run a server until the block ends, then stop it with SIGTERM; yield its URL and the pids
    whose CPU counts (with the projection worker's, when it runs apart)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    env = os.environ | {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_HOST": HOST,
        "TRACKER_PORT": str(port),
        "TRACKER_WORKERS": str(args.workers),
        "TRACKER_LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, "-m", args.server, FACTORIES[app], "--factory", "--host", HOST]
    argv += ["--port", str(port), "--workers", str(args.workers), "--log-level", "warning"]
    argv += OPTIONS[args.server]
    if args.server == "granian" and app == "service":
        argv = [sys.executable, "-m", "tracker", "serve"]  # the production command, set by env
    base = f"http://{HOST}:{port}"
    ready = base + ("/health" if app == "service" else "/hello")
    with tempfile.TemporaryFile() as log, contextlib.ExitStack() as apart:
        pids = []
        if app == "service" and args.projections == "apart":
            env["TRACKER_RUN_PROJECTIONS"] = "off"
            pids.append(apart.enter_context(projection_worker(env)))
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):
                if proc.poll() is not None:
                    log.seek(0)
                    sys.exit(f"the server exited:\n{' '.join(argv)}\n{log.read().decode()}")
                if fetch(ready)[0] == 200:
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"the server did not answer {ready} within a minute")
            yield base, [proc.pid, *pids]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"warning: the {app} server ignored SIGTERM; killed", file=sys.stderr)
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def projection_worker(env: dict[str, str]) -> Iterator[int]:
    """`tracker projections run` until the block ends, once it has built the views; its pid."""
    argv = [sys.executable, "-m", "tracker", "projections", "run"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):
                log.seek(0)
                output = log.read().decode()
                if "running projections" in output:
                    break
                if proc.poll() is not None:
                    sys.exit(f"the projection worker exited:\n{output}")
                time.sleep(0.1)
            else:
                sys.exit("the projection worker did not start within a minute")
            yield proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def fetch(url: str, method: str = "GET", token: str = "", body: object = None) -> tuple[int, str]:
    """One request with the standard library: (status, body); status 0 when unreachable."""
    data = None if body is None else msgspec.json.encode(body)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


@contextmanager
def in_memory() -> Iterator[str]:
    """An embedded PostgreSQL with its data in /dev/shm, for the block; its URL."""
    folder = Path("/dev/shm")
    if not folder.is_dir():
        sys.exit("--database memory needs /dev/shm (Linux)")
    data = folder / "tracker-bench"
    try:
        yield start_embedded(data)
    finally:
        stop_embedded(data / "pgdata")
        shutil.rmtree(data, ignore_errors=True)


def measure(
    args: argparse.Namespace,
    base: str,
    pids: list[int],
    lines: list[Line],
    folder: str,
    probe: Path | None,
    url: str,
) -> Result:
    """Check one request by hand, warm up, run wrk and parse its summary; time the server's CPU."""
    method, path, token, body = lines[0]
    status, text = fetch(base + path, method, token, body)
    if not 200 <= status < 300:
        sys.exit(f"{method} {path} answered {status}: {text}")
    file = Path(folder) / "requests.tsv"
    bodies = ["" if b is None else msgspec.json.encode(b).decode() for *_, b in lines]
    rows = (f"{m}\t{p}\t{t}\t{b}\n" for (m, p, t, _), b in zip(lines, bodies, strict=True))
    file.write_text("".join(rows))
    threads = min(WRK_THREADS, args.connections)

    def wrk(seconds: int) -> list[str]:
        argv = ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "5s"]
        return [*argv, "-s", str(LUA), base, "--", str(file), str(threads)]

    subprocess.run(wrk(args.warmup), capture_output=True)  # unmeasured
    argv = wrk(args.seconds)
    cpu, db, wal = cpu_seconds(pids), database_cpu_seconds(), asyncio.run(wal_bytes(url))
    with probing(probe) as latencies:
        done = subprocess.run(argv, capture_output=True, text=True)
    cpu, db, out = cpu_seconds(pids) - cpu, database_cpu_seconds() - db, done.stdout
    wal = asyncio.run(wal_bytes(url)) - wal
    summary = next((x for x in out.splitlines() if x.startswith("bench: ")), None)
    if summary is None:
        sys.exit(f"no summary in wrk's output:\n{' '.join(argv)}\n{out}{done.stderr}")
    f = {k: int(v) for k, v in (field.split("=") for field in summary.split()[1:])}
    first = out.partition("bench-first-error: ")[2].strip()
    n, latency = f["requests"], (f["p50"] / 1000, f["p99"] / 1000)
    return Result(
        n / f["micros"] * 1e6,
        *latency,
        cpu * 1000 / n,
        db * 1000 / n,
        wal / 1024 / n,
        f["non2xx"],
        f["socket_errors"],
        first,
        stalls(latencies),
    )


def _processes() -> Iterator[tuple[int, str, int, int]]:
    """Every process: pid, name, parent and CPU ticks (user and system) so far, its own and its
    exited children's (a database backend that exits mid-run still counts, with the server)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().partition(" (")[2].rpartition(")")
        except OSError:
            continue  # it exited meanwhile
        fields = rest.split()
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        yield int(stat.parent.name), name, int(fields[1]), ticks


async def wal_bytes(server: str) -> int:
    """WAL the database server has written since its statistics were last reset."""
    return int(await fetch_value(server, "SELECT wal_bytes FROM pg_stat_wal"))


def database_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL server's processes (on this machine): backends,
    WAL writer and the rest, since commits cost there too."""
    ticks = sum(t for _, name, _, t in _processes() if name == "postgres")
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(roots: list[int]) -> float:
    """CPU time (user and system) used so far by some processes and all their descendants."""
    parents, ticks = {}, {}
    for pid, _, parent, used in _processes():
        parents[pid], ticks[pid] = parent, used
    tree, grew = set(roots), True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def report(results: dict[str, list[Result]]) -> int:
    """Print the figures, ratios and targets; non-zero if any response failed."""
    rows: list[list[object]] = []
    for name, (label, _, baseline) in RUNS.items():
        for i, r in enumerate(results.get(name, [])):
            ratio, vs, met = "", "", ""
            if baseline is not None:
                ratio = r.rps / statistics.mean(b.rps for b in results[baseline])
                vs = RUNS[baseline][0].split("  ")[0]
                met = "yes" if ratio >= TARGET_RATIO and r.p99_ms < TARGET_P99_MS else "NO"
            rows.append([label + ("  (again, after)" if i else ""), r.rps, r.p50_ms, r.p99_ms])
            disk = "-" if r.disk is None else f"{r.disk.over} ({r.disk.longest_ms:,.0f})"
            rows[-1] += [
                r.cpu_ms,
                r.db_cpu_ms,
                r.wal_kb,
                r.non2xx,
                r.socket_errors,
                disk,
                ratio,
                vs,
                met,
            ]
    header = ["request", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "db CPU ms/req", "WAL KB/req"]
    header += ["non-2xx", "sock err", "disk stalls (ms)", "ratio", "of", "met"]
    print(table(header, rows))
    print(f"ratios are to the mean of the baseline's two runs; targets: ratio >= {TARGET_RATIO}")
    print(f"and p99 < {TARGET_P99_MS:.0f} ms")
    print(
        f"disk stalls: syncs of a small write on the database's disk that took over "
        f"{STALL_MS:.0f} ms during the run (and the longest); every commit waits for such a "
        f"sync, so each stall holds up all the writes in flight ('-': not probed)"
    )
    failed = [(n, r) for n, rs in results.items() for r in rs if r.non2xx or r.socket_errors]
    for name, r in failed:
        print(f"ERRORS in {name}: {r.non2xx} non-2xx, {r.socket_errors} socket errors")
        print(f"  first: {r.first_error or '-'}")
    if failed:
        print("figures with errors are not valid measurements")
    return 1 if failed else 0


def main() -> int:
    """Seed a fresh database, serve the baselines then the service, and measure each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument(
        "--projections",
        choices=("inside", "apart"),
        default="inside",
        help="run the projections in the server (tracker serve's default) or beside it",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=10,
        help="unmeasured seconds before each run, long enough that each worker has loaded the "
        "2,000 commitments the progress run spreads over",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(RUNS),
        default=list(RUNS),
        help="measure only these runs (and the baselines they are compared with)",
    )
    parser.add_argument(
        "--database",
        choices=("server", "memory"),
        default="server",
        help="the PostgreSQL server of TRACKER_BENCH_DATABASE_URL, or an embedded one whose "
        "data lives in memory (/dev/shm), so that no commit waits for a disk",
    )
    args = parser.parse_args()
    runs = {*args.only, *(RUNS[n][2] for n in args.only if RUNS[n][2] is not None)}
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: on Debian or Ubuntu, apt-get install -y wrk")
    with in_memory() if args.database == "memory" else contextlib.nullcontext(SERVER) as server:
        return measure_all(args, runs, server)


def measure_all(args: argparse.Namespace, runs: set[str], server: str) -> int:
    """Seed a fresh database on server, then measure every run and report."""
    url = asyncio.run(fresh_database("tracker_bench_api", server))
    lines = asyncio.run(seed(url))
    probe = probe_folder(asyncio.run(data_directory(url)))
    print(
        f"{args.server} {version(args.server)}, {args.workers} workers; wrk {WRK_THREADS} threads, "
        f"{args.connections} connections, {args.seconds} s per run; {os.cpu_count()} cores, "
        f"database {'in memory' if args.database == 'memory' else 'on its server'}, "
        f"load average {os.getloadavg()[0]:.2f} before the runs; projections "
        + ("inside the server" if args.projections == "inside" else "in a process of their own")
    )
    results: dict[str, list[Result]] = {}
    baselines = {RUNS[n][2] for n in runs} - {None}
    # The baselines run before and after the service, and ratios use their mean: the machine's
    # speed drifts over a run of minutes, and bracketing cancels most of that drift.
    rounds = [("baseline", runs), ("service", runs), ("baseline", baselines)]
    with tempfile.TemporaryDirectory() as folder:
        for app, names in rounds:
            with serving(args, url, app) as (base, pids):
                for name in (n for n, run in RUNS.items() if run[1] == app and n in names):
                    result = measure(args, base, pids, lines[name], folder, probe, url)
                    results.setdefault(name, []).append(result)
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
