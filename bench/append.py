"""Append and read throughput: this event store against stock `eventsourcing` and raw asyncpg.

    python bench/append.py [--seconds 5] [--repeats 1] [--read-events 1000000]

Needs a PostgreSQL server (TRACKER_BENCH_DATABASE_URL, default the local one on 5432).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvloop
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.common import fresh_database, libpq_env, median, pool_for, run_for, table
from tracker.eventstore import Context, EventStore, NewEvent, StreamAppend

CONCURRENCY = (1, 8, 32)
# The service's pool size; measured here, more connections than 8 only add contention on 2 cores.
POOL = 8
SIZES = (1, 10)
PAYLOAD = {"title": "Open a warm hub in the library", "due_on": "2026-12-01", "progress": 40}
CTX = Context(actor="api_client:bench", source="bench")

BARE_TABLE = """CREATE TABLE IF NOT EXISTS bare (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id uuid NOT NULL, version int NOT NULL, type text NOT NULL, payload jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_id, version))"""
BARE_INSERT = "INSERT INTO bare (stream_id, version, type, payload) VALUES ($1, $2, $3, $4)"
NOTIFYING = """CREATE OR REPLACE FUNCTION bench_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('events', ''); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER bench_notify AFTER INSERT ON events
FOR EACH STATEMENT EXECUTE FUNCTION bench_notify()"""


class Commitment(Aggregate):
    """The stock library's version of a commitment, for side (b)."""

    @event("Made")
    def __init__(self, title: str) -> None:
        self.title = title

    @event("ProgressReported")
    def report(self, progress: int) -> None:
        self.progress = progress


async def ours(
    url: str,
    workers: int,
    size: int,
    seconds: float,
    notify: bool = False,
    follow_live: bool = False,
) -> float:
    """Appends with idempotency keys, the hash chain and live wake-ups; optionally with a live
    reader following the log in the same process (the cost of a consumer, not of the append)."""
    pool = await pool_for(url, POOL)
    if notify:
        await pool.execute(NOTIFYING)
    store = EventStore(pool)
    streams = [uuid.uuid4() for _ in range(workers)]
    versions = [0] * workers

    async def step(i: int) -> int:
        events = [NewEvent(type="commitment.progress_reported", payload=PAYLOAD)] * size
        append = StreamAppend(
            stream_id=streams[i],
            stream_type="commitment",
            expected_version=versions[i],
            events=events,
        )
        await store.append(append, context=CTX, idempotency_key=uuid.uuid4().hex)
        versions[i] += size
        return size

    async def follow() -> None:
        async for _ in store.follow(await store.head()):
            pass

    follower = asyncio.create_task(follow() if follow_live else asyncio.sleep(3600))
    try:
        return await run_for(seconds, workers, step)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        if notify:
            await pool.execute("DROP TRIGGER bench_notify ON events")
        await pool.close()


async def bare(url: str, workers: int, seconds: float) -> float:
    """The ceiling: one single-row INSERT per transaction, nothing else."""
    pool = await pool_for(url, POOL)
    await pool.execute(BARE_TABLE)
    streams = [uuid.uuid4() for _ in range(workers)]
    versions = [0] * workers

    async def step(i: int) -> int:
        versions[i] += 1
        await pool.execute(
            BARE_INSERT, streams[i], versions[i], "commitment.progress_reported", PAYLOAD
        )
        return 1

    try:
        return await run_for(seconds, workers, step)
    finally:
        await pool.close()


def stock(url: str, workers: int, size: int, seconds: float) -> float:
    """Stock `eventsourcing` 9.5 on PostgreSQL, saving aggregates from as many threads."""
    env = libpq_env(url) | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        # The library's default pool (5 + 10 overflow) has fewer connections than 32 threads.
        "POSTGRES_POOL_SIZE": str(workers),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    app = Application(env=env)
    done = [0] * workers
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        while time.monotonic() < stop:
            c = Commitment(title=PAYLOAD["title"])
            for _ in range(size - 1):
                c.report(progress=40)
            app.save(c)
            done[i] += size

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(workers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = sum(done) / (time.monotonic() - started)
    app.close()
    return rate


async def appends(url: str, seconds: float, repeats: int) -> None:
    rows = []
    for size in SIZES:
        for workers in CONCURRENCY:
            a = median([await ours(url, workers, size, seconds) for _ in range(repeats)])
            f = median(
                [await ours(url, workers, size, seconds, follow_live=True) for _ in range(repeats)]
            )
            b = median(
                [
                    await asyncio.to_thread(stock, url, workers, size, seconds)
                    for _ in range(repeats)
                ]
            )
            c = median([await bare(url, workers, seconds) for _ in range(repeats)])
            rows.append([size, workers, a, f, b, c, a / b, a / c, f / b])
            print(
                f"  {size:>2} x {workers:>2}: ours {a:,.0f}  with a live reader {f:,.0f}  "
                f"stock {b:,.0f}  bare {c:,.0f}",
                flush=True,
            )
    print("\nAppend throughput, events/s")
    print("  a: this store, with idempotency keys, hash chain and live wake-ups")
    print("  a': the same with a live reader following every event in the same process")
    print("  b: stock eventsourcing 9.5 on PostgreSQL, psycopg-binary, threads")
    print("  c: bare asyncpg, one single-row INSERT per transaction")
    header = ["events/append", "writers", "a ours", "a' +reader", "b stock", "c bare"]
    print(table([*header, "a/b", "a/c", "a'/b"], rows))
    n = median([await ours(url, 32, 1, seconds, notify=True) for _ in range(repeats)])
    q = median([await ours(url, 32, 1, seconds) for _ in range(repeats)])
    print(
        f"\nLive updates by NOTIFY in the append transaction, 32 writers x 1 event: {n:,.0f}/s "
        f"vs {q:,.0f}/s with in-process wake-ups and polling ({n / q:.2f}x)"
    )


async def load_ours(url: str, total: int) -> None:
    pool = await pool_for(url, 8)
    store = EventStore(pool)
    per_append, streams = 100, total // 100

    async def worker(k: int) -> None:
        for _ in range(k, streams, 8):
            events = [NewEvent(type="commitment.progress_reported", payload=PAYLOAD)] * per_append
            await store.append(
                StreamAppend(
                    stream_id=uuid.uuid4(),
                    stream_type="commitment",
                    expected_version=0,
                    events=events,
                ),
                context=CTX,
            )

    await asyncio.gather(*(worker(k) for k in range(8)))
    await pool.close()


def load_stock(url: str, total: int) -> object:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresFactory
    from eventsourcing.utils import Environment

    env = Environment("bench", libpq_env(url))
    recorder = PostgresFactory(env).application_recorder()
    state = b'{"title": "Open a warm hub in the library", "due_on": "2026-12-01", "progress": 40}'
    for _ in range(total // 10_000):
        batch = [
            StoredEvent(uuid.uuid4(), v, "bench:ProgressReported", state)
            for _ in range(1000)
            for v in range(1, 11)
        ]
        recorder.insert_events(batch)
    return recorder


async def reads(url: str, total: int) -> None:
    await load_ours(url, total)
    recorder = await asyncio.to_thread(load_stock, url, total)
    pool = await pool_for(url, 2)
    # Settle both tables as a store that has run for a while would be (hint bits, statistics).
    await pool.execute("VACUUM ANALYZE")
    store = EventStore(pool)

    started, seen, page = time.monotonic(), 0, await store.read_all(limit=5000)
    while page.events:
        seen += len(page.events)
        page = await store.read_all(page.checkpoint, limit=5000)
    ours_rate = seen / (time.monotonic() - started)

    started, last, count = time.monotonic(), 0, 0
    while True:
        rows = await pool.fetch(
            "SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT 5000", last
        )
        if not rows:
            break
        count += len(rows)
        last = rows[-1]["position"]
    bare_rate = count / (time.monotonic() - started)
    await pool.close()

    def scan_stock() -> float:
        from eventsourcing.persistence import JSONTranscoder, Mapper  # noqa: F401

        started, start, n = time.monotonic(), 1, 0
        while True:
            batch = recorder.select_notifications(start, 5000)  # type: ignore[attr-defined]
            if not batch:
                break
            n += len(batch)
            start = batch[-1].id + 1
        return n / (time.monotonic() - started)

    stock_rate = await asyncio.to_thread(scan_stock)
    print(f"\nread_all over {seen:,} events, decoded into envelopes: {ours_rate:,.0f} events/s")
    print(
        f"stock select_notifications over {total:,} of its events: {stock_rate:,.0f}/s; "
        f"bare asyncpg keyset scan: {bare_rate:,.0f}/s; ours/stock {ours_rate / stock_rate:.1f}x"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--read-events", type=int, default=1_000_000)
    args = parser.parse_args()
    url = await fresh_database("tracker_bench_append")
    print(
        f"PostgreSQL at {url}; {os.cpu_count()} cores; {args.seconds:.0f} s per figure", flush=True
    )
    await appends(url, args.seconds, args.repeats)
    if args.read_events:
        url = await fresh_database("tracker_bench_read")
        await reads(url, args.read_events)


if __name__ == "__main__":
    uvloop.run(main())
