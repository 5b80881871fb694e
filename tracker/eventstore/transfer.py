"""The log in bulk: export pages, import into an empty store, a COPY of it all to verify."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import msgspec

from tracker.database import Connection
from tracker.eventstore.envelope import START, Checkpoint, ExportedEvent
from tracker.eventstore.log import Executor, LogFilter, head

# The payload as the stored jsonb text and the hash as hex: see ExportedEvent.
EXPORT_COLUMNS = """position, transaction_id, stream_id, stream_type, version, type, type_version,
payload::text, occurred_at, recorded_at, actor, on_behalf_of, source, correlation_id,
causation_id, encode(hash, 'hex'), idempotency_key, encode(request_digest, 'hex')"""
# Positions are kept (OVERRIDING SYSTEM VALUE); the transaction id is the importing one, and
# importing each exported transaction in its own transaction, in order, keeps their order.
IMPORT = """
INSERT INTO events (position, stream_id, stream_type, version, type, type_version, payload,
                    occurred_at, recorded_at, actor, on_behalf_of, source, correlation_id,
                    causation_id, hash, idempotency_key, request_digest)
OVERRIDING SYSTEM VALUE
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[],
                     $6::smallint[], $7::text[]::jsonb[], $8::timestamptz[], $9::timestamptz[],
                     $10::text[], $11::text[], $12::text[], $13::uuid[], $14::uuid[],
                     $15::bytea[], $16::text[], $17::bytea[])
"""
RESET_POSITIONS = """
SELECT setval(pg_get_serial_sequence('events', 'position'), max(position)) FROM events
"""
# Every committed event of one snapshot in global order. No horizon is needed: whatever sits
# above it has a larger transaction id than anything sealed, so it can only follow the leaves.
# Each row is one JSON array of the envelope in CopiedEvent's field order.
COPY_LOG = """
SELECT json_build_array(position, transaction_id::text::numeric, stream_id, stream_type, version,
       type, type_version, payload, occurred_at, recorded_at, actor, on_behalf_of, source,
       correlation_id, causation_id, translate(encode(hash, 'base64'), E'\\n', ''))
FROM events ORDER BY transaction_id, position
"""
# Times in JSON carry the session's offset; in UTC they decode exactly as the driver's do.
UTC_TIMES = "SET LOCAL TimeZone = 'UTC'"


def export_query(where: str) -> str:
    """Keyset pages of the log after a checkpoint, up to a fixed last checkpoint."""
    return f"""
SELECT {EXPORT_COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND (transaction_id, position) <= ($3::xid8, $4){where}
ORDER BY transaction_id, position
LIMIT $5
"""


async def export_pages(
    db: Executor, only: LogFilter | None, page: int
) -> AsyncIterator[list[ExportedEvent]]:
    """The log a page at a time, in global order, up to the head readable when it starts."""
    # Everything up to there is final: later appends can neither slip in behind the export nor
    # keep it running.
    end = await head(db)
    if end is None:
        return
    where, extra = (only or LogFilter()).where(6)
    query = export_query(where)
    raw = msgspec.Raw
    after = START
    while True:
        rows = await db.fetch(
            query, after.transaction_id, after.position, end.transaction_id, end.position, page,
            *extra,
        )  # fmt: skip
        if not rows:
            return
        yield [
            ExportedEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], raw(r[7]), *r[8:]) for r in rows
        ]
        if len(rows) < page:
            return
        after = Checkpoint(rows[-1][1], rows[-1][0])


async def import_transaction(conn: Connection, events: Sequence[ExportedEvent]) -> None:
    """Write one exported transaction's events as they were, in a transaction of their own."""
    await conn.execute(IMPORT, *_columns(events))


async def reset_positions(conn: Connection) -> None:
    """Continue positions after the last imported one."""
    await conn.execute(RESET_POSITIONS)


def _columns(events: Sequence[ExportedEvent]) -> list[list[object]]:
    return [
        [e.position for e in events],
        [e.stream_id for e in events],
        [e.stream_type for e in events],
        [e.version for e in events],
        [e.type for e in events],
        [e.type_version for e in events],
        [bytes(e.payload).decode() for e in events],  # the stored jsonb text, unchanged
        [e.occurred_at for e in events],
        [e.recorded_at for e in events],
        [e.actor for e in events],
        [e.on_behalf_of for e in events],
        [e.source for e in events],
        [e.correlation_id for e in events],
        [e.causation_id for e in events],
        [bytes.fromhex(e.hash) for e in events],
        [e.idempotency_key for e in events],
        [None if e.request_digest is None else bytes.fromhex(e.request_digest) for e in events],
    ]


async def copy_log(conn: Connection, output: Callable[[bytes], Coroutine[Any, Any, None]]) -> None:
    """Every event of conn's open transaction's snapshot to output: a CopiedEvent per line."""
    # COPY text, in global order, each line one JSON array with its times in UTC.
    # COPY streams the rows with no per-row protocol overhead, each as one JSON array decoded
    # in bulk: several times cheaper than decoding sixteen columns per row in the driver.
    await conn.execute(UTC_TIMES)
    await conn.copy_from_query(COPY_LOG, output=output)
