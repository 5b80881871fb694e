"""Export the log as NDJSON: one object per event with its whole envelope and chain hash."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import asyncpg
import msgspec

from tracker.eventstore.store import HEAD

MEDIA_TYPE = "application/x-ndjson"
PAGE = 5000

# The payload leaves as the stored jsonb text (embedded raw) and the hash as hex: no decoding
# and re-encoding per event, and an import can store the payload exactly as it was.
COLUMNS = """position, transaction_id, stream_id, stream_type, version, type, type_version,
payload::text, occurred_at, recorded_at, actor, on_behalf_of, source, correlation_id,
causation_id, encode(hash, 'hex'), idempotency_key, encode(request_digest, 'hex')"""


class ExportedEvent(msgspec.Struct, frozen=True):
    """One line of an export: every envelope field, the payload as JSON, the hash as hex."""

    position: int
    transaction_id: int
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    type_version: int
    payload: msgspec.Raw
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    on_behalf_of: str | None
    source: str | None
    correlation_id: UUID | None
    causation_id: UUID | None
    hash: str
    # On the first event of an append made with an Idempotency-Key: the key and a digest of the
    # request, so a store restored from the export still answers a retry with the first result.
    # Absent from exports made before they were exported.
    idempotency_key: str | None = None
    request_digest: str | None = None


class ExportFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which part of the log to export; the default is all of it."""

    stream_id: UUID | None = None
    stream_type: str | None = None
    types: Sequence[str] | None = None
    # recorded_at in [since, until)
    since: datetime | None = None
    until: datetime | None = None

    def where(self, first: int) -> tuple[str, list[Any]]:
        """SQL conditions and their arguments, numbered from $first."""
        conditions: list[str] = []
        args: list[Any] = []

        def add(sql: str, value: Any) -> None:
            args.append(value)
            conditions.append(sql.format(f"${first + len(args) - 1}"))

        if self.stream_id is not None:
            add("stream_id = {}", self.stream_id)
        if self.stream_type is not None:
            add("stream_type = {}", self.stream_type)
        if self.types:
            add("type = ANY({}::text[])", list(self.types))
        if self.since is not None:
            add("recorded_at >= {}", self.since)
        if self.until is not None:
            add("recorded_at < {}", self.until)
        return "".join(f"\n  AND {c}" for c in conditions), args


def moment(text: str) -> datetime:
    """A time on the command line: ISO 8601 with its offset (a bare time would be ambiguous)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text} needs a time zone offset, such as Z or +01:00")
    return value


def page_query(where: str) -> str:
    """Keyset pages of the log after a checkpoint, up to a fixed last checkpoint."""
    return f"""
SELECT {COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND (transaction_id, position) <= ($3::xid8, $4){where}
ORDER BY transaction_id, position
LIMIT $5
"""


async def export(
    pool: asyncpg.Pool, only: ExportFilter | None = None, page: int = PAGE
) -> AsyncIterator[bytes]:
    """Yield the log as NDJSON, a page of lines at a time, in global order, at constant memory.

    The export ends at the head readable when it starts: everything up to there is final
    (below the horizon), so later appends can neither slip in behind it nor keep it running.
    """
    head = await pool.fetchrow(HEAD)
    if head is None:
        return
    end_tx, end_pos = head[0], head[1]
    where, extra = (only or ExportFilter()).where(6)
    query = page_query(where)
    encoder = msgspec.json.Encoder()
    raw = msgspec.Raw
    tx, pos = 0, 0
    while True:
        rows = await pool.fetch(query, tx, pos, end_tx, end_pos, page, *extra)
        if not rows:
            return
        yield encoder.encode_lines(
            [
                ExportedEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], raw(r[7]), *r[8:])
                for r in rows
            ]
        )
        last = rows[-1]
        tx, pos = last[1], last[0]
        if len(rows) < page:
            return


async def write(pool: asyncpg.Pool, output: BinaryIO, only: ExportFilter | None = None) -> int:
    """Write the export to a binary file; return the number of events written."""
    count = 0
    async for chunk in export(pool, only):
        await asyncio.to_thread(output.write, chunk)
        count += chunk.count(b"\n")
    return count


async def export_command(
    pool: asyncpg.Pool, output: Path | None, only: ExportFilter | None = None
) -> int:
    """`tracker audit export [--output FILE]`: the log to a file, or to standard output."""
    if output is None:
        count = await write(pool, sys.stdout.buffer, only)
        sys.stdout.buffer.flush()
    else:
        file = await asyncio.to_thread(output.open, "wb")
        try:
            count = await write(pool, file, only)
        finally:
            await asyncio.to_thread(file.close)
    print(f"exported {count:,} events", file=sys.stderr)
    return 0
