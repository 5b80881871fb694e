"""Audit trail throughput: export (events/s and peak memory) and full verification (events/s).

    python bench/audit.py [--events 1000000] [--fresh] [--standalone] [--import]
                          [--skip-seal-bench]

Needs a PostgreSQL server (TRACKER_BENCH_DATABASE_URL, default the local one on 5432). The
database tracker_bench_audit is kept between runs and topped up to --events; it is sealed once,
so verification also compares every stored leaf and seal. The export runs in a child process,
whose memory is sampled with psutil. Sealing and proof latency are bench/audit_seal.py's, run
at the end when present. --standalone also times standalone.py over the export, and --import
loads the export into a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import psutil
import uvloop

from bench.common import SERVER, pool_for, table, url_for
from tracker.audit import seals
from tracker.audit.export import export
from tracker.audit.findings import Report
from tracker.audit.importer import import_log
from tracker.audit.keys import SigningKey
from tracker.audit.verify import verify
from tracker.eventstore import Context, EventStore, NewEvent, StreamAppend
from tracker.migrate import migrate

DATABASE = "tracker_bench_audit"
ROOT = Path(__file__).resolve().parent.parent
EXPORT_TARGET, MEMORY_TARGET, VERIFY_TARGET = 50_000, 200, 50_000
CTX = Context(actor="integration:bench", source="bench/audit.py", on_behalf_of="leader:bench")
TYPES = [
    "commitment.made",
    "commitment.accepted",
    "commitment.progress_reported",
    "commitment.renegotiated",
    "commitment.completed",
]


def payload(rng: random.Random, version: int) -> dict[str, object]:
    """A payload the size of a real commitment event."""
    return {
        "description": "Open the central library as a warm space on weekday evenings",
        "due_on": (date(2026, 12, 1) + timedelta(days=rng.randint(0, 90))).isoformat(),
        "owner_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "progress": rng.randint(0, 100),
        "purpose_ids": [str(uuid.UUID(int=rng.getrandbits(128)))],
        "note": f"step {version}",
    }


def appends(rng: random.Random, streams: int) -> list[StreamAppend]:
    """New commitment streams with one to eight events each, as one atomic append."""
    out = []
    for _ in range(streams):
        n = rng.randint(1, 8)
        events = [
            NewEvent(type=TYPES[min(v, len(TYPES) - 1)], payload=payload(rng, v)) for v in range(n)
        ]
        out.append(
            StreamAppend(
                stream_id=uuid.uuid4(), stream_type="commitment", expected_version=0, events=events
            )
        )
    return out


async def database(events: int, fresh: bool) -> str:
    """The bench database with at least `events` events, sealed; created or topped up."""
    admin = await asyncpg.connect(SERVER)
    try:
        if fresh:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = url_for(DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        have = int(await conn.fetchval("SELECT count(*) FROM events"))
    finally:
        await conn.close()
    pool = await pool_for(url, 8)
    try:
        if have < events:
            await load(EventStore(pool), events - have)
        started = time.monotonic()
        if await seals.seal(pool, SigningKey.generate()) is not None:
            print(f"sealed in {time.monotonic() - started:.1f} s", file=sys.stderr)
        await pool.execute("VACUUM ANALYZE events")
    finally:
        await pool.close()
    return url


async def load(store: EventStore, missing: int) -> None:
    """Append about `missing` events, four appends in flight."""
    print(f"loading {missing:,} events...", file=sys.stderr)
    left = [missing]

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        while left[0] > 0:
            batch = appends(rng, 50)
            left[0] -= sum(len(a.events) for a in batch)
            await store.append(*batch, context=CTX)

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(4)))
    print(f"loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)


async def child_export(url: str, output: Path) -> None:
    """In the child process: export to a file and report events and seconds."""
    pool = await pool_for(url, 2)
    try:
        started, count = time.monotonic(), 0
        with output.open("wb") as file:  # blocking writes: the child does nothing else
            async for chunk in export(pool):
                file.write(chunk)
                count += chunk.count(b"\n")
        print(json.dumps({"events": count, "seconds": time.monotonic() - started}))
    finally:
        await pool.close()


def measure_export(url: str, folder: Path) -> tuple[int, float, float, int]:
    """Run the export in a child, sampling its memory; events, seconds, peak MB, file bytes."""
    output = folder / "export.ndjson"
    child = psutil.Popen(
        [sys.executable, __file__, "--child-export", url, str(output)],
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, child.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    out = child.stdout.read() if child.stdout else ""
    if child.returncode:
        raise SystemExit(f"export failed with status {child.returncode}")
    done = json.loads(out.strip().splitlines()[-1])
    return done["events"], done["seconds"], peak / 2**20, output.stat().st_size


class Sampler(threading.Thread):
    """The peak resident memory of this process while it runs, sampled every 20 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.done.wait(0.02):
            self.peak = max(self.peak, me.memory_info().rss)


async def measure_verify(url: str) -> tuple[Report, float]:
    """One full verification in this process; its report and the peak memory in MB."""
    pool = await pool_for(url, 4)
    sampler = Sampler()
    sampler.start()
    try:
        report = await verify(pool)
    finally:
        sampler.done.set()
        await pool.close()
    if not report.ok:
        print("\n".join(report.lines()), file=sys.stderr)
    return report, sampler.peak / 2**20


def measure_standalone(export_file: Path) -> float:
    """Seconds for the standalone verifier over the export (no heads: chains and tree only)."""
    heads = export_file.with_name("heads.json")
    heads.write_text("[]")
    key = export_file.with_name("key.pem")
    key.write_text(SigningKey.generate().public_pem)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(ROOT / "tracker/audit/standalone.py"), export_file, heads, key],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


async def measure_import(export_file: Path) -> tuple[int, float]:
    """Load the export into a new scratch database; events and seconds."""
    scratch = f"{DATABASE}_import"
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{scratch}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(url_for(scratch))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await pool_for(url_for(scratch), 2)
    try:
        started = time.monotonic()
        count = await import_log(pool, export_file)
        return count, time.monotonic() - started
    finally:
        await pool.close()


def run_seal_bench(events: int) -> None:
    """The colleague's sealing and proof-latency bench, when it exists."""
    script = ROOT / "bench" / "audit_seal.py"
    if not script.exists():
        print("\nbench/audit_seal.py not found: sealing and proof latency not measured")
        return
    print("\nbench/audit_seal.py (sealing 10,000 new events, inclusion proofs):", flush=True)
    subprocess.run([sys.executable, str(script), "--base", str(events), "--reuse"], check=False)


async def main(args: argparse.Namespace) -> None:
    url = await database(args.events, args.fresh)
    with tempfile.TemporaryDirectory() as folder:
        count, seconds, peak_mb, size = measure_export(url, Path(folder))
        rate = count / seconds
        report, verify_mb = await measure_verify(url)
        verify_rate = report.events / report.seconds
        rows = [
            [
                "export",
                f"{count:,}",
                f"{seconds:.1f}",
                rate,
                f"{peak_mb:.0f} MB",
                f">= {EXPORT_TARGET:,}/s, < {MEMORY_TARGET} MB",
                "yes" if rate >= EXPORT_TARGET and peak_mb < MEMORY_TARGET else "NO",
            ],
            [
                "verify",
                f"{report.events:,}",
                f"{report.seconds:.1f}",
                verify_rate,
                f"{verify_mb:.0f} MB",
                f">= {VERIFY_TARGET:,}/s",
                "yes" if verify_rate >= VERIFY_TARGET and report.ok else "NO",
            ],
        ]
        if args.do_import:
            imported, import_seconds = await measure_import(Path(folder) / "export.ndjson")
            rows.append(
                [
                    "import",
                    f"{imported:,}",
                    f"{import_seconds:.1f}",
                    imported / import_seconds,
                    "",
                    "(none)",
                    "",
                ]
            )
        if args.standalone:
            standalone_seconds = measure_standalone(Path(folder) / "export.ndjson")
            rows.append(
                [
                    "standalone",
                    f"{count:,}",
                    f"{standalone_seconds:.1f}",
                    count / standalone_seconds,
                    "",
                    "(none)",
                    "",
                ]
            )
    print(f"\nAudit trail over {count:,} events ({size / 2**20:,.0f} MB of NDJSON)")
    print(
        f"verify checked {report.streams:,} chains, {report.leaves:,} stored leaves and "
        f"{report.seals} seals: " + ("all matched" if report.ok else "MISMATCH (see above)")
    )
    header = ["", "events", "seconds", "events/s", "peak memory", "target", "met"]
    print(table(header, rows))
    if not args.skip_seal_bench:
        run_seal_bench(args.events)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child-export":
        uvloop.run(child_export(sys.argv[2], Path(sys.argv[3])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="drop and reload the database")
    parser.add_argument("--standalone", action="store_true", help="also time standalone.py")
    parser.add_argument(
        "--import", dest="do_import", action="store_true", help="also time an import"
    )
    parser.add_argument("--skip-seal-bench", action="store_true")
    uvloop.run(main(parser.parse_args()))
