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
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import uvloop

from bench.audit_data import DATABASE, database
from bench.common import fresh_database, pool_for, table
from tracker.audit.export import export
from tracker.audit.findings import Report
from tracker.audit.importer import import_log
from tracker.audit.keys import SigningKey
from tracker.audit.verify import verify

ROOT = Path(__file__).resolve().parent.parent
EXPORT_TARGET, MEMORY_TARGET, VERIFY_TARGET = 50_000, 200, 50_000


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
    pool = await pool_for(await fresh_database(f"{DATABASE}_import"), 2)
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
