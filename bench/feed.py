"""The change feed under load: commands driven by wrk, each event delivered as a signed webhook
to every one of several local receivers.

    uv run python bench/feed.py [--rate 500] [--seconds 60] [--subscriptions 10] [--down 30]
                                [--deliveries inside|apart]

Runs `tracker serve` (bench/api.py's command and options; deliveries inside it, or with
--deliveries apart in `tracker deliveries run` beside it) on an embedded PostgreSQL in
/dev/shm. The commands are bench/api.py's progress reports (POST
/commitments/{id}/progress-reports over 2,000 commitments, one event each), sent by wrk with
bench/paced.lua. It measures:

1. bench/api.py's command throughput (wrk, closed loop) with the subscriptions paused, active,
   and paused again (the ratio is to the mean of the two paused runs), then how fast the
   deliveries that fell behind drain;
2. at `--rate` commands a second for `--seconds`, every receiver up: the lag from an event's
   recorded_at to its receiver's arrival (p50, p99, max), deliveries a second, and CPU per
   delivery of the server's processes (the deliverer's included);
3. the same with one receiver down for `--down` seconds, then back: how long until it has
   caught up, and whether anything was lost or came out of order per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec

from bench.api_seed import seed
from bench.common import fetch_value, fresh_database, table
from bench.serving import ROOT, fetch, in_memory, serving
from bench.usage import cpu_seconds

HOST = "127.0.0.1"
TYPE = "commitment.progress_reported"
LUA = ROOT / "bench" / "paced.lua"
WRK_THREADS = 2
COUNT = f"SELECT count(*) FROM events WHERE type = '{TYPE}'"
# The webhook-ids of the events so far since the subscriptions began.
IDS = f"""
SELECT coalesce(array_agg('msg_' || transaction_id::text || '_' || position), '{{{{}}}}')
FROM events WHERE type = '{TYPE}' AND position > {{start}}
"""


class Tally:
    """What one receiver has recorded so far, read incrementally from its file."""

    def __init__(self, out: Path) -> None:
        self.out, self.offset = out, 0
        self.ids: set[str] = set()
        self.rows: list[tuple[str, int, float, float]] = []  # stream, version, recorded, arrived

    def read(self) -> int:
        """Take in the lines added since; how many distinct deliveries so far."""
        if self.out.exists():
            with self.out.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
            whole = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(whole)
            for line in whole.decode().splitlines():
                wid, stream, version, recorded, arrived = line.split()
                at = datetime.fromisoformat(recorded.replace("Z", "+00:00")).timestamp()
                self.ids.add(wid)
                self.rows.append((stream, int(version), at, float(arrived)))
        return len(self.ids)


def start_receiver(port: int, out: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A receiver on the port (0: any free one), once it listens; with its port."""
    argv = [sys.executable, "-m", "bench.feed_receiver", str(port), str(out)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    told = proc.stdout.readline()
    if not told:
        sys.exit(f"a receiver did not start on port {port}")
    return proc, int(told)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def wrk(base: str, requests: Path, seconds: float, rate: float, connections: int) -> list[str]:
    """wrk's command line: requests from the file, at rate a second (0: closed loop)."""
    argv = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "5s"]
    return [*argv, "-s", str(LUA), base, "--", str(requests), str(WRK_THREADS), str(rate)]


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """wrk's `bench:` line as numbers; exits if any request was refused, warns of timeouts
    (the count of events comes from the log, so a timed-out command that went through counts)."""
    line = next((x for x in done.stdout.splitlines() if x.startswith("bench: ")), None)
    if line is None:
        sys.exit(f"no summary in wrk's output:\n{done.stdout}{done.stderr}")
    f = {k: int(v) for k, v in (field.split("=") for field in line.split()[1:])}
    if f["non2xx"]:
        sys.exit(f"wrk saw failures: {line}")
    if f["socket_errors"]:
        print(f"warning: {f['socket_errors']} socket errors (timeouts of 5 s): {line}")
    return f


def commands_per_second(argv: list[str]) -> float:
    f = summary(subprocess.run(argv, capture_output=True, text=True))
    return f["requests"] / f["micros"] * 1e6


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def caught_up(tallies: list[Tally], total: int, seconds: float) -> float:
    """Wait until each receiver has `total` distinct deliveries; when that was (monotonic)."""
    deadline = time.monotonic() + seconds
    while True:
        have = [t.read() for t in tallies]
        if all(h >= total for h in have):
            return time.monotonic()
        if time.monotonic() > deadline:
            sys.exit(f"receivers never caught up: {have} of {total}")
        time.sleep(0.1)


def check(tally: Tally) -> tuple[int, int]:
    """Versions missing from a stream, and deliveries that came after a later version."""
    seen: dict[str, int] = {}
    versions: dict[str, set[int]] = {}
    disorder = 0
    for stream, version, _, _ in tally.rows:
        if version < seen.get(stream, 0) and version not in versions.get(stream, set()):
            disorder += 1
        seen[stream] = max(seen.get(stream, 0), version)
        versions.setdefault(stream, set()).add(version)
    lost = sum(len(set(range(2, top + 1)) - versions[s]) for s, top in seen.items())
    return lost, disorder


@contextmanager
def deliverer_apart(apart: bool, url: str) -> object:
    """`tracker deliveries run` beside the server, for the block; its pid (None if inside)."""
    if not apart:
        yield None
        return
    argv = [sys.executable, "-m", "tracker", "deliveries", "run"]
    env = os.environ | {"TRACKER_DATABASE_URL": url}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        yield proc.pid
    finally:
        stop(proc)


def subscribe(base: str, admin: str, ports: list[int]) -> list[str]:
    ids = []
    for port in ports:
        body = {"target_url": f"http://{HOST}:{port}/hook", "types": [TYPE]}
        status, text = fetch(base + "/subscriptions", "POST", admin, body)
        assert status == 201, text
        ids.append(msgspec.json.decode(text)["subscription"]["id"])
    return ids


def switch(base: str, admin: str, ids: list[str], to: str) -> None:
    for sid in ids:
        status, text = fetch(f"{base}/subscriptions/{sid}/{to}", "POST", admin, {})
        assert 200 <= status < 300, text


def run(args: argparse.Namespace, url: str, folder: Path) -> None:
    """Seed, start receivers, server and subscriptions, and measure the three parts."""
    seeded = asyncio.run(seed(url))
    admin = seeded["get"][0][2]
    requests = folder / "requests.tsv"
    rows = [(m, p, t, msgspec.json.encode(b).decode()) for m, p, t, b in seeded["progress"]]
    requests.write_text("".join(f"{m}\t{p}\t{t}\t{b}\n" for m, p, t, b in rows))
    tallies = [Tally(folder / f"receiver-{i}.txt") for i in range(args.subscriptions)]
    started = [start_receiver(0, t.out) for t in tallies]
    receivers, ports = [r for r, _ in started], [p for _, p in started]
    os.environ |= {
        "TRACKER_DATA_DIR": str(folder / "data"),
        "TRACKER_SEAL_SECONDS": "0",
        "TRACKER_WEBHOOK_ALLOW_PRIVATE": "on",
        "TRACKER_RUN_DELIVERIES": "off" if args.deliveries == "apart" else "on",
    }
    serve = argparse.Namespace(server="granian", workers=args.workers, projections="inside")
    try:
        with ExitStack() as stack:
            base, pids = stack.enter_context(serving(serve, url, "service"))
            apart = stack.enter_context(deliverer_apart(args.deliveries == "apart", url))
            pids += [apart] if apart else []
            ids = subscribe(base, admin, ports)
            measure(args, base, admin, url, ids, requests, pids, tallies, receivers, ports)
    finally:
        for r in receivers:
            stop(r)


def measure(
    args: argparse.Namespace,
    base: str,
    admin: str,
    url: str,
    ids: list[str],
    requests: Path,
    pids: list[int],
    tallies: list[Tally],
    receivers: list[subprocess.Popen[bytes]],
    ports: list[int],
) -> None:
    seeded = int(asyncio.run(fetch_value(url, COUNT)))  # reported before the subscriptions
    start = int(asyncio.run(fetch_value(url, "SELECT max(position) FROM events")))

    def events() -> int:
        return int(asyncio.run(fetch_value(url, COUNT))) - seeded

    # 1. bench/api.py's throughput: paused, active, paused again, after an unmeasured warm-up.
    closed = wrk(base, requests, args.throughput_seconds, 0, args.connections)
    switch(base, admin, ids, "pause")
    subprocess.run(wrk(base, requests, args.warmup, 0, args.connections), capture_output=True)
    quiet = [commands_per_second(closed)]
    switch(base, admin, ids, "resume")
    busy = commands_per_second(closed)
    switch(base, admin, ids, "pause")
    quiet.append(commands_per_second(closed))
    behind = events() * len(tallies) - sum(t.read() for t in tallies)
    switch(base, admin, ids, "resume")
    started = time.monotonic()
    caught_up(tallies, events(), 900)
    drain = behind / (time.monotonic() - started)
    paused = sum(quiet) / 2
    print(
        table(
            ["subscriptions", "commands/s (wrk closed loop)"],
            [
                [
                    "paused (mean of before and after)",
                    f"{paused:.0f} ({quiet[0]:.0f}, {quiet[1]:.0f})",
                ],
                ["active", f"{busy:.0f} ({(busy / paused - 1) * 100:+.0f}%)"],
            ],
        )
    )
    print(f"backlog after the runs: {behind:,} deliveries, drained at {drain:,.0f} a second")

    # 2. Steady rate, every receiver up.
    before, first = [len(t.rows) for t in tallies], events()
    cpu, started = cpu_seconds(pids), time.time()
    summary(
        subprocess.run(
            wrk(base, requests, args.seconds, args.rate, 64), capture_output=True, text=True
        )
    )
    sent = events()
    caught_up(tallies, sent, 300)
    took, cpu = time.time() - started, cpu_seconds(pids) - cpu
    lags = [(a - r) * 1000 for t, b in zip(tallies, before, strict=True) for *_, r, a in t.rows[b:]]
    count = sum(len(t.rows) - b for t, b in zip(tallies, before, strict=True))
    rate = (sent - first) / args.seconds
    print(
        table(
            ["rate", "deliveries/s", "lag p50 ms", "lag p99 ms", "lag max ms", "CPU ms/delivery"],
            [
                [
                    f"{rate:.0f}/s of {args.rate:.0f}",
                    f"{count / took:.0f}",
                    f"{percentile(lags, 50):.0f}",
                    f"{percentile(lags, 99):.0f}",
                    f"{max(lags, default=0):.0f}",
                    f"{cpu * 1000 / max(count, 1):.3f}",
                ]
            ],
        )
    )

    # 3. One receiver down, then back.
    stop(receivers[0])
    downed = time.monotonic()
    load = subprocess.Popen(
        wrk(base, requests, args.seconds, args.rate, 64), stdout=subprocess.PIPE, text=True
    )
    time.sleep(max(0.0, args.down - (time.monotonic() - downed)))
    receivers[0] = start_receiver(ports[0], tallies[0].out)[0]
    back = time.monotonic()
    missed = set(asyncio.run(fetch_value(url, IDS.format(start=start))))
    while not missed <= tallies[0].ids and time.monotonic() - back < 300:
        tallies[0].read()
        time.sleep(0.1)
    backlog = time.monotonic()
    out, _ = load.communicate()
    summary(subprocess.CompletedProcess(load.args, 0, out, ""))
    total = events()
    caught_up(tallies[1:], total, 300)
    caught = caught_up(tallies[:1], total, 300)
    lost, disorder = check(tallies[0])
    level = f"{caught - back:.1f} s ({args.seconds - args.down:.0f} s of load after its return)"
    print(
        table(
            ["receiver down", "had the outage's events", "had all", "lost", "out of order"],
            [[f"{args.down:.0f} s", f"{backlog - back:.1f} s", level, lost, disorder]],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--down", type=float, default=30)
    parser.add_argument("--throughput-seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=64, help="wrk's, closed loop")
    parser.add_argument("--workers", type=int, default=2, help="the server's processes")
    parser.add_argument("--deliveries", choices=("inside", "apart"), default="inside")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start; deliveries {args.deliveries}")
    with in_memory(f"tracker-bench-feed-{os.getpid()}") as server, TemporaryDirectory() as folder:
        url = asyncio.run(fresh_database("tracker_bench_feed", server))
        run(args, url, Path(folder))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
