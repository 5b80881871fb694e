"""The views benchmark's discovery reads: the first page of each list, the lookup by external
reference and /me, at 16 connections, beside a single commitment read as the baseline."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from uuid import UUID

from bench.common import pool_for
from bench.usage import cpu_seconds, database_cpu_seconds
from bench.views_data import CASE_SYSTEM
from bench.views_reads import WARM_UP_SECONDS, _wait_for, free_port, wrk
from tracker import tokens
from tracker.application.external import reference_id

TARGET_P99_MS = 20.0
BASELINE = "GET /commitments/{id}"


async def _setup(url: str, leader: str) -> tuple[str, str, str]:
    """An admin token, the busy leader's token, and one of that leader's forums."""
    pool = await pool_for(url, 1)
    try:
        admin = await tokens.issue(pool, "bench-lists", "admin")
        own = await tokens.issue(pool, "bench-lists-leader", "leader", leader_id=UUID(leader))
        forum = await pool.fetchval(
            "SELECT forum_id FROM forums WHERE members @> jsonb_build_array($1::text) "
            "ORDER BY forum_id LIMIT 1",
            leader,
        )
    finally:
        await pool.close()
    return admin, own, str(forum)


def list_latency(url: str, leader: str, seconds: int, workers: int) -> None:
    """Serve the API on the loaded store and read each list's first page at 16 connections."""
    admin, own, forum = asyncio.run(_setup(url, leader))
    port = free_port()
    env = os.environ | {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_PORT": str(port),
        "TRACKER_WORKERS": str(workers),
        "TRACKER_LOG_LEVEL": "warning",
        "TRACKER_SEAL_SECONDS": "0",
    }
    server = subprocess.Popen([sys.executable, "-m", "tracker", "serve"], env=env)
    base = f"http://127.0.0.1:{port}"
    commitment = reference_id(CASE_SYSTEM, "case-1234")
    cases = [
        (BASELINE, admin, f"/commitments/{commitment}"),
        (
            "commitments by reference",
            admin,
            f"/commitments?source_system={CASE_SYSTEM}&external_id=case-1234",
        ),
        ("GET /me (leader)", own, "/me"),
        ("organisations", admin, "/organisations"),
        ("leaders (admin: all)", admin, "/leaders"),
        ("leaders (leader: own forums)", own, "/leaders"),
        ("forums (admin: all)", admin, "/forums"),
        ("forums (leader: own)", own, "/forums"),
        ("purposes", admin, "/purposes"),
        ("forum's purposes", own, f"/forums/{forum}/purposes"),
        ("meetings", admin, "/meetings"),
        ("forum's meetings", own, f"/forums/{forum}/meetings"),
        ("agreements", admin, "/agreements"),
    ]
    try:
        _wait_for(base + "/health")
        print(f"\nlists, first page, {workers} worker(s), 16 connections, {seconds} s each:")
        print(
            f"{'read':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x baseline':>10} "
            f"{'target p99':>10} {'non-2xx':>8} {'server CPU ms/req':>17} {'db CPU ms/req':>13}"
        )
        baseline = None
        database = url.rsplit("/", 1)[1].split("?")[0]
        for name, token, path in cases:
            wrk(base + path, token, WARM_UP_SECONDS)
            cpu, db = cpu_seconds([server.pid]), database_cpu_seconds(database)
            rate, p50, p99, bad = wrk(base + path, token, seconds)
            cpu, db = cpu_seconds([server.pid]) - cpu, database_cpu_seconds(database) - db
            baseline = baseline or p99
            n = rate * seconds
            print(
                f"{name:<30} {rate:8,.0f} {p50:8.1f} {p99:8.1f} {p99 / baseline:10.2f} "
                f"{f'< {TARGET_P99_MS:.0f}':>10} {bad:>8} {cpu * 1000 / n:17.2f} "
                f"{db * 1000 / n:13.2f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
