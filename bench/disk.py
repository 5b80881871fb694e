"""How long the database's disk takes to make a small write durable, probed while a run goes on.

Every commit waits for PostgreSQL's WAL to reach the disk, so a disk that now and then takes
hundreds of milliseconds to sync stalls every write in flight, under any server. The probe
writes 4 KB and fdatasyncs it every 10 ms in a thread, in a file on the same filesystem as
the database's data directory, and counts the syncs that took longer than STALL_MS.

    uv run python bench/disk.py [--seconds 30]      # the disk alone, with nothing else running
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SERVER

STALL_MS = 50.0
EVERY_SECONDS = 0.01


class Stalls(NamedTuple):
    """What the probe saw: syncs, how many took over STALL_MS, and the longest (ms)."""

    syncs: int
    over: int
    longest_ms: float


async def data_directory(url: str = SERVER) -> Path | None:
    """Where the database server keeps its data, if it is on this machine."""
    host = urlparse(url).hostname
    if host not in (None, "", "127.0.0.1", "::1", "localhost"):  # None: a socket path
        return None
    conn = await asyncpg.connect(url)
    try:
        return Path(await conn.fetchval("SHOW data_directory"))
    except asyncpg.InsufficientPrivilegeError:
        return None
    finally:
        await conn.close()


def probe_folder(data: Path | None) -> Path | None:
    """A writable folder on the data directory's filesystem: the system's temporary folder,
    when it is on it (the data directory itself belongs to PostgreSQL)."""
    temporary = Path(tempfile.gettempdir())
    try:
        same = data is not None and temporary.stat().st_dev == data.stat().st_dev
    except OSError:  # not on this machine after all, or not ours to see
        return None
    return temporary if same else None


@contextlib.contextmanager
def probing(folder: Path | None) -> Iterator[list[float]]:
    """Sync a small write every 10 ms in folder until the block ends; yield the list the
    latencies (ms) go into. With no folder, nothing is probed and the list stays empty."""
    latencies: list[float] = []
    if folder is None:
        yield latencies
        return
    stop = threading.Event()
    fd, name = tempfile.mkstemp(dir=folder, prefix="disk-probe-")

    def run() -> None:
        block = b"\0" * 4096
        while not stop.wait(EVERY_SECONDS):
            os.pwrite(fd, block, 0)
            started = time.perf_counter()
            os.fdatasync(fd)
            latencies.append((time.perf_counter() - started) * 1000)

    thread = threading.Thread(target=run, name="disk-probe", daemon=True)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join()
        os.close(fd)
        os.unlink(name)


def stalls(latencies: list[float]) -> Stalls | None:
    """The probe's summary, or None when nothing was probed."""
    if not latencies:
        return None
    return Stalls(len(latencies), sum(1 for ms in latencies if ms > STALL_MS), max(latencies))


def main() -> int:
    """Probe the database's disk for a while and print what it saw."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    folder = probe_folder(asyncio.run(data_directory()))
    if folder is None:
        sys.exit("the database's data directory is not on this machine (or not visible)")
    with probing(folder) as latencies:
        time.sleep(args.seconds)
    latencies.sort()
    s = stalls(latencies)
    assert s is not None
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"{s.syncs} syncs of 4 KB in {args.seconds:.0f} s on {folder}'s disk:")
    print(f"median {latencies[len(latencies) // 2]:.2f} ms, p99 {p99:.2f} ms, ", end="")
    print(f"longest {s.longest_ms:.0f} ms; {s.over} over {STALL_MS:.0f} ms")
    for bound in (10, 50, 100, 200, 500):
        print(f"  over {bound} ms: {sum(1 for ms in latencies if ms > bound)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
