"""The views benchmark's rebuilds: each projection alone and all together, each in a child
process, against the time to read and decode the log alone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

import asyncpg
import msgspec
import psutil
import uvloop

from bench.common import fetch_value
from projections.registry import all_projections


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
