"""Sealing and proof latency: seal 10,000 new events on top of a large store, then time proofs.

    python bench/audit_seal.py [--base 1000000] [--new 10000] [--rounds 3] [--proofs 1000] [--reuse]

Needs a PostgreSQL server (TRACKER_BENCH_DATABASE_URL, default the local one on 5432).
--reuse keeps the database of an earlier run with at least --base events (loading takes a while).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import uvloop
from litestar.testing import AsyncTestClient

from bench.common import fresh_database, pool_for, url_for
from tracker import tokens
from tracker.api.app import create_app
from tracker.api.resources.audit import AuditController
from tracker.audit import merkle, seals, tree
from tracker.audit.keys import SigningKey
from tracker.eventstore import Context, EventStore, NewEvent, StreamAppend
from tracker.settings import Settings

DATABASE = "tracker_bench_audit_seal"
PAYLOAD = {"title": "Open a warm hub in the library", "due_on": "2026-12-01", "progress": 40}
CTX = Context(actor="api_client:bench", source="bench")
POSITIONS = "SELECT position FROM merkle_leaves WHERE leaf_index = ANY($1::bigint[])"


def appends(streams: int, per_stream: int) -> list[StreamAppend]:
    """New streams with a few events each, as one atomic append."""
    events = [NewEvent(type="commitment.progress_reported", payload=PAYLOAD)] * per_stream
    return [
        StreamAppend(
            stream_id=uuid.uuid4(), stream_type="commitment", expected_version=0, events=events
        )
        for _ in range(streams)
    ]


async def load(store: EventStore, total: int, streams: int, per_stream: int) -> None:
    """Append total events, streams * per_stream at a time, four appends in flight."""
    batches = total // (streams * per_stream)

    async def worker(count: int) -> None:
        for _ in range(count):
            await store.append(*appends(streams, per_stream), context=CTX)

    await asyncio.gather(*(worker(batches // 4 + (i < batches % 4)) for i in range(4)))


async def database(base: int, reuse: bool) -> str:
    """A database holding at least base events, sealed."""
    if reuse:
        try:
            conn = await asyncpg.connect(url_for(DATABASE))
        except asyncpg.InvalidCatalogNameError:
            conn = None
        if conn is not None:
            count = await conn.fetchval("SELECT count(*) FROM events")
            await conn.close()
            if count >= base:
                print(f"reusing {DATABASE} with {count:,} events")
                return url_for(DATABASE)
    url = await fresh_database(DATABASE)
    pool = await pool_for(url, 8)
    started = time.monotonic()
    await load(EventStore(pool), base, streams=100, per_stream=10)
    print(f"loaded {base:,} events in {time.monotonic() - started:.1f} s")
    await pool.execute("VACUUM ANALYZE")
    await pool.close()
    return url


async def seal_rounds(pool: asyncpg.Pool, key: SigningKey, new: int, rounds: int) -> None:
    """Seal whatever is unsealed, then time sealing `new` events appended in small commits."""
    started = time.monotonic()
    head = await seals.seal(pool, key)
    if head is not None:
        print(f"sealed the backlog up to {head.tree_size:,} in {time.monotonic() - started:.1f} s")
    store, timings = EventStore(pool), []
    for _ in range(rounds):
        await load(store, new, streams=5, per_stream=2)  # 10 events per transaction
        before = await seals.latest(pool)
        started = time.monotonic()
        head = await seals.seal(pool, key)
        timings.append(time.monotonic() - started)
        assert head is not None and before is not None
        assert head.tree_size - before.tree_size == new, "the horizon held some events back"
    size = head.tree_size if head else 0
    print(
        f"seal {new:,} new events on {size - new:,}: median {statistics.median(timings):.3f} s "
        f"({new / statistics.median(timings):,.0f} events/s) over {rounds} rounds"
    )


def percentiles(label: str, millis: list[float]) -> None:
    """p50 and p99 of some timings."""
    q = statistics.quantiles(millis, n=100)
    print(f"{label}: p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms, max {max(millis):.2f} ms")


async def proofs(pool: asyncpg.Pool, url: str, count: int) -> None:
    """Inclusion proofs for random sealed events, at the function and through HTTP."""
    head = await seals.latest(pool)
    assert head is not None
    indexes = random.Random(1).sample(range(head.tree_size), min(count, head.tree_size))
    positions = [r[0] for r in await pool.fetch(POSITIONS, indexes)]
    direct = []
    for position in positions:
        started = time.perf_counter()
        found = await tree.inclusion(pool, position, head.tree_size)
        await seals.seal_at(pool, head.tree_size)
        direct.append((time.perf_counter() - started) * 1000)
        ok = merkle.verify_inclusion(
            found.leaf_hash, found.leaf_index, head.tree_size, found.path, head.root_hash
        )
        assert ok
    percentiles(f"inclusion proof in a tree of {head.tree_size:,}, in process", direct)
    token = await tokens.issue(pool, "bench", "auditor")
    http = await over_http(url, token, positions)
    percentiles("  ... through GET /audit/proofs/inclusion", http)


async def over_http(url: str, token: str, positions: list[int]) -> list[float]:
    """The same proofs through the API, token check and JSON included."""
    with TemporaryDirectory() as data_dir:
        extra = {"seal_seconds": 0.0} if "seal_seconds" in Settings.__struct_fields__ else {}
        app = create_app(
            Settings(database_url=url, data_dir=Path(data_dir), run_projections=False, **extra)
        )
        if not any(route.path == "/audit/seals" for route in app.routes):
            app.register(AuditController)
        app.state.signing_key = SigningKey.generate()
        timings = []
        async with AsyncTestClient(app) as client:
            auth = {"Authorization": f"Bearer {token}"}
            for position in positions:
                started = time.perf_counter()
                response = await client.get(
                    f"/audit/proofs/inclusion?position={position}", headers=auth
                )
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
        return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs every request
    url = await database(args.base, args.reuse)
    pool = await pool_for(url, 8)
    try:
        await seal_rounds(pool, SigningKey.generate(), args.new, args.rounds)
        await proofs(pool, url, args.proofs)
    finally:
        await pool.close()


if __name__ == "__main__":
    uvloop.run(main())
