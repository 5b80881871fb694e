"""Views benchmark: rebuild speed and memory over ~1,000,000 events, and read latency.

    python bench/views.py [--scale 1.0] [--seconds 10] [--reuse] [--database NAME]
                          [--only rebuild|reads|lists|as_of] [--workers 1] [--writes 20]

Loads a realistic store (bench/views_data.py) into a fresh database on
TRACKER_BENCH_DATABASE_URL's server (default: the local PostgreSQL), rebuilds every projection
with `tracker projections rebuild` in a child process (time, events/s, peak memory), then serves
the API with `tracker serve` and reads the leader view, the purpose view and the first page of
the commitment list with wrk at 16 connections (p50/p99 latency, after a 2 s warm-up): with the
view cache (the default) and without it, where every read computes its view; and both again
while forums are renamed at --writes per second (each rename moves the commitment views'
checkpoint, so no view kept before it may be served after it). The lists' first pages, the
lookup by external reference and /me are read the same way, beside `GET /commitments/{id}`.
The leader, purpose and meeting views are read live and as_of random past positions in one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import uvloop

from bench.common import SERVER, fresh_database, pool_for, url_for
from bench.views_data import CTX, Store
from bench.views_lists import list_latency
from bench.views_reads import as_of_latency, read_latency
from bench.views_rebuild import rebuild_all
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

DATABASE = "tracker_bench_views"


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
        "--only",
        choices=("rebuild", "reads", "lists", "as_of"),
        help="measure only the rebuild, the view reads, the lists' first pages or the views as_of",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the read latencies: apt-get install wrk")
    url = url_for(args.database)
    if not args.reuse:
        url = uvloop.run(fresh_database(args.database))
        uvloop.run(load(url, args.scale))
    print(f"PostgreSQL at {SERVER.rsplit('/', 1)[0]}; {os.cpu_count()} cores", flush=True)
    if args.only in (None, "rebuild"):
        rebuild_all(url)
    if args.only in (None, "lists"):
        list_latency(url, uvloop.run(busy_ids(url))[0], args.seconds, args.workers)
    if args.only in (None, "as_of"):
        leader, purpose = uvloop.run(busy_ids(url))
        as_of_latency(url, leader, purpose, args.seconds, args.workers)
    if args.only in (None, "reads"):
        leader, purpose = uvloop.run(busy_ids(url))
        for writes in (0, args.writes):
            for cache in (True, False):
                read_latency(url, leader, purpose, args.seconds, args.workers, cache, writes)


if __name__ == "__main__":
    main()
