"""The bulk build's own COPY codecs write exactly what the driver's would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import asyncpg

from projections.bulk_rows import use_copy_codecs
from projections.pg_time import from_count


async def test_timestamps_written_by_the_bulk_codec_are_the_same_instants(
    pool: asyncpg.Pool, database_url: str
) -> None:
    rng = random.Random(7)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    span = 130 * 365 * 86_400 * 10**6  # to the end of this century, to the microsecond
    moments = [start + timedelta(microseconds=rng.randrange(span)) for _ in range(20_000)]
    # The same instants seen from other time zones, and the edges of PostgreSQL's own epoch.
    moments += [m.astimezone(timezone(timedelta(hours=-7, minutes=-30))) for m in moments[:500]]
    moments += [datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=d) for d in (-1, 0, 1)]
    await pool.execute("CREATE TABLE stamps (i integer PRIMARY KEY, at timestamptz NOT NULL)")
    await pool.execute("CREATE TABLE copied (i integer PRIMARY KEY, at timestamptz NOT NULL)")
    conn = await asyncpg.connect(database_url)
    try:
        await use_copy_codecs(conn)
        await conn.copy_records_to_table("stamps", records=list(enumerate(moments)))
        # Read as counts of microseconds, and written back as they came.
        counts = await conn.fetch("SELECT i, at FROM stamps ORDER BY i")
        await conn.copy_records_to_table("copied", records=counts)
    finally:
        await conn.close()
    assert [from_count(at) for _, at in counts] == moments
    # Read back through the pool's connections, with the driver's own decoding.
    for table in ("stamps", "copied"):
        assert [r[0] for r in await pool.fetch(f"SELECT at FROM {table} ORDER BY i")] == moments
