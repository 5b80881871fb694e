"""The audit benchmark's store: synthetic commitment streams, loaded and sealed once and kept
between runs (topped up when more events are asked for)."""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from datetime import date, timedelta

import asyncpg

from bench.common import SERVER, pool_for, url_for
from tracker.audit import seals
from tracker.audit.keys import SigningKey
from tracker.eventstore import Context, EventStore, NewEvent, StreamAppend
from tracker.migrate import migrate

DATABASE = "tracker_bench_audit"
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
