"""The change feed under load: commands at a steady rate, each event delivered as a signed
webhook to every one of several local receivers.

    uv run python bench/feed.py [--rate 500] [--seconds 60] [--subscriptions 10] [--down 30]

Runs `tracker serve` (deliveries inside) on an embedded PostgreSQL in /dev/shm, and measures:

1. command throughput, closed loop, with the subscriptions paused and then active;
2. at `--rate` commands a second for `--seconds`, every receiver up: the lag from an event's
   recorded_at to its receiver's 2xx (p50, p99, max), deliveries a second, and the server's CPU
   per delivery;
3. the same with one receiver down for `--down` seconds, then back: how long until it has
   caught up, and whether anything was lost or came out of order per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import psutil

from bench.common import table
from bench.serving import in_memory
from tracker import tokens
from tracker.database import create_pool
from tracker.migrate import migrate

HOST = "127.0.0.1"
ORGANISATIONS = 200  # streams the renames spread over
NAMES = itertools.count()  # a new name for every rename of the run


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def spawn_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tracker", "serve"], env=env)


def start_receiver(port: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.feed_receiver", str(port), str(out)],
        cwd=Path(__file__).resolve().parent.parent,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def deliveries(out: Path) -> list[tuple[str, str, int, float, float]]:
    """Each delivery a receiver recorded: id, stream, version, recorded_at, arrival."""
    if not out.exists():
        return []
    found = []
    for line in out.read_text().splitlines():
        wid, stream, version, recorded, arrived = line.split()
        at = datetime.fromisoformat(recorded.replace("Z", "+00:00")).timestamp()
        found.append((wid, stream, int(version), at, float(arrived)))
    return found


# The driver: renames of organisations, paced or as fast as the server answers.


async def drive(
    client: httpx.AsyncClient, orgs: list[str], seconds: float, rate: float | None, workers: int
) -> int:
    """Send renames for `seconds`, at `rate` a second in all (None: as fast as answered)."""
    sent = 0
    start = time.monotonic()
    tickets = itertools.count()

    async def worker() -> None:
        nonlocal sent
        while (now := time.monotonic()) - start < seconds:
            n, ticket = next(NAMES), next(tickets)
            if rate is not None:
                due = start + ticket / rate
                if due > now:
                    await asyncio.sleep(due - now)
            org = orgs[n % len(orgs)]
            name = {"name": f"Org {n} renamed"}
            r = await client.post(f"/organisations/{org}/renaming", json=name)
            assert r.status_code == 200, r.text
            sent += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return sent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def run(args: argparse.Namespace, database: str, folder: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {
        "TRACKER_DATABASE_URL": database,
        "TRACKER_PORT": str(port),
        "TRACKER_DATA_DIR": str(folder / "data"),
        "TRACKER_LOG_LEVEL": "warning",
        "TRACKER_SEAL_SECONDS": "0",
        "TRACKER_WEBHOOK_ALLOW_PRIVATE": "on",
        "TRACKER_POOL_SIZE": "16",
    }
    pool = await create_pool(database, size=2)
    async with pool.acquire() as conn:
        await migrate(conn)
    token = await tokens.issue(pool, "bench-admin", "admin", None)
    await pool.close()
    server = spawn_server(env)
    base = f"http://{HOST}:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    receivers: list[subprocess.Popen[bytes]] = []
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(600):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            orgs = []
            for i in range(ORGANISATIONS):
                r = await client.post(
                    "/organisations", json={"name": f"Org {i}", "kind": "council"}
                )
                assert r.status_code == 201, r.text
                orgs.append(r.json()["stream_id"])
            ports = [free_port() for _ in range(args.subscriptions)]
            outs = [folder / f"receiver-{i}.txt" for i in range(args.subscriptions)]
            receivers = [start_receiver(p, o) for p, o in zip(ports, outs, strict=True)]
            for p in ports:
                await listening(p)
            ids = []
            for p in ports:
                r = await client.post(
                    "/subscriptions",
                    json={
                        "target_url": f"http://{HOST}:{p}/hook",
                        "types": ["organisation.renamed"],
                    },
                )
                assert r.status_code == 201, r.text
                ids.append(r.json()["subscription"]["id"])
            process = psutil.Process(server.pid)

            # 1. Throughput, closed loop, subscriptions paused then active, after a warm-up.
            for sid in ids:
                await client.post(f"/subscriptions/{sid}/pause")
            warm = await drive(client, orgs, args.warmup, None, 32)
            quiet = await drive(client, orgs, args.throughput_seconds, None, 32)
            for sid in ids:
                await client.post(f"/subscriptions/{sid}/resume")
            busy = await drive(client, orgs, args.throughput_seconds, None, 32)
            await caught_up(outs, warm + quiet + busy, args.subscriptions, 120)
            print(
                table(
                    ["subscriptions", "commands/s"],
                    [
                        ["paused", f"{quiet / args.throughput_seconds:.0f}"],
                        ["active", f"{busy / args.throughput_seconds:.0f}"],
                    ],
                )
            )
            before = [len(deliveries(o)) for o in outs]

            # 2. Steady rate, every receiver up.
            cpu = sum(process.cpu_times()[:2]) + sum(
                sum(c.cpu_times()[:2]) for c in process.children(recursive=True)
            )
            started = time.time()
            sent = await drive(client, orgs, args.seconds, args.rate, 64)
            total = warm + quiet + busy + sent
            await caught_up(outs, total, args.subscriptions, 120)
            took = time.time() - started
            cpu = (
                sum(process.cpu_times()[:2])
                + sum(sum(c.cpu_times()[:2]) for c in process.children(recursive=True))
                - cpu
            )
            lags = []
            count = 0
            for o, b in zip(outs, before, strict=True):
                got = deliveries(o)[b:]
                count += len(got)
                lags += [(arrived - recorded) * 1000 for _, _, _, recorded, arrived in got]
            print(
                table(
                    [
                        "rate",
                        "events",
                        "deliveries/s",
                        "lag p50 ms",
                        "lag p99 ms",
                        "lag max ms",
                        "server CPU ms/delivery",
                    ],
                    [
                        [
                            f"{sent / args.seconds:.0f}/s",
                            sent,
                            f"{count / took:.0f}",
                            f"{percentile(lags, 50):.0f}",
                            f"{percentile(lags, 99):.0f}",
                            f"{max(lags, default=0):.0f}",
                            f"{cpu * 1000 / max(count, 1):.2f}",
                        ]
                    ],
                )
            )

            # 3. One receiver down, then back.
            stop(receivers[0])
            downed = time.monotonic()
            task = asyncio.create_task(drive(client, orgs, args.seconds, args.rate, 64))
            await asyncio.sleep(args.down - (time.monotonic() - downed))
            receivers[0] = start_receiver(ports[0], outs[0])
            await listening(ports[0])
            back = time.monotonic()
            sent = await task
            total += sent
            await caught_up(outs[1:], total, args.subscriptions - 1, 300)
            caught = await caught_up(outs[:1], total, 1, 300)
            lost, disorder = check(outs[0])
            print(
                table(
                    ["receiver down", "caught up after it came back", "lost", "out of order"],
                    [[f"{args.down:.0f} s", f"{caught - back:.1f} s", lost, disorder]],
                )
            )
    finally:
        for r in receivers:
            stop(r)
        server.terminate()
        server.wait(timeout=30)


async def listening(port: int) -> None:
    """Wait until a receiver accepts connections (its process takes a second to start)."""
    for _ in range(1200):
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise SystemExit(f"no receiver on port {port}")


async def caught_up(outs: list[Path], total: int, count: int, seconds: float) -> float:
    """Wait until each receiver has `total` distinct deliveries; when that was (monotonic)."""
    deadline = time.monotonic() + seconds
    while True:
        if all(len({d[0] for d in deliveries(o)}) >= total for o in outs):
            return time.monotonic()
        if time.monotonic() > deadline:
            have = [len({d[0] for d in deliveries(o)}) for o in outs]
            raise SystemExit(f"receivers never caught up: {have} of {total}")
        await asyncio.sleep(0.1)


def check(out: Path) -> tuple[int, int]:
    """Versions missing from a stream, and deliveries that came after a later version."""
    seen: dict[str, int] = {}
    disorder = 0
    versions: dict[str, set[int]] = {}
    for _, stream, version, _, _ in deliveries(out):
        if version < seen.get(stream, 0) and version not in versions.get(stream, set()):
            disorder += 1
        seen[stream] = max(seen.get(stream, 0), version)
        versions.setdefault(stream, set()).add(version)
    lost = sum(len(set(range(2, top + 1)) - versions[s]) for s, top in seen.items())
    return lost, disorder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--down", type=float, default=30)
    parser.add_argument("--throughput-seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds first")
    args = parser.parse_args()
    with in_memory() as server, TemporaryDirectory() as folder:
        name = f"feed_{uuid.uuid4().hex[:8]}"
        asyncio.run(create_and_run(args, server, name, Path(folder)))


async def create_and_run(args: argparse.Namespace, server: str, name: str, folder: Path) -> None:
    import asyncpg

    from bench.common import url_for

    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await run(args, url_for(name, server), folder)


if __name__ == "__main__":
    main()
