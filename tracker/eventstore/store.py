"""The event store on asyncpg: append, read a stream, read the global log, follow it live."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tracker.application.errors import ConcurrencyError, IdempotencyKeyReused
from tracker.database import Connection
from tracker.eventstore.chain import ChainBreak, canonical_bytes, encode_payload, utc, verify_chain
from tracker.eventstore.envelope import (
    START,
    Appended,
    AppendResult,
    Checkpoint,
    Context,
    Page,
    RecordedEvent,
    StreamAppend,
    StreamInfo,
)
from tracker.eventstore.live import LogWatcher

# One round trip: migrations/0001_event_store.sql defines append_events().
APPEND = """
SELECT stream_id, version, position, transaction_id, replayed
FROM append_events(
    $1, $2, $3, $4, $5, $6, $7, $8, $9::text[]::jsonb[], $10, $11, $12, $13, $14, $15, $16
)
"""

COLUMNS = """position, transaction_id, stream_id, stream_type, version, type, type_version, payload,
occurred_at, recorded_at, actor, on_behalf_of, source, correlation_id, causation_id, hash"""

# Rows whose transaction id is below the oldest running transaction can no longer appear
# behind the reader, so stopping at that horizon means a checkpoint never skips an event.
READ_ALL = f"""
SELECT {COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, position
LIMIT $3
"""
READ_ALL_OF_TYPES = f"""
SELECT {COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  AND type = ANY($4::text[])
ORDER BY transaction_id, position
LIMIT $3
"""
READ_STREAM = f"""
SELECT {COLUMNS} FROM events
WHERE stream_id = $1 AND version >= $2 AND version <= $3
ORDER BY version
"""
STREAM_HEADS = """
SELECT s.id AS stream_id, coalesce(max(e.version), 0) AS version
FROM unnest($1::uuid[]) AS s(id) LEFT JOIN events e ON e.stream_id = s.id
GROUP BY s.id
"""
STREAM_INFO = """
SELECT stream_id, stream_type, max(version) AS version,
       min(recorded_at) AS created_at, max(recorded_at) AS updated_at
FROM events WHERE stream_id = $1 GROUP BY stream_id, stream_type
"""
HEAD = """
SELECT transaction_id, position FROM events
WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id DESC, position DESC LIMIT 1
"""

CONFLICT = "TR409"
KEY_REUSED = "TR422"
MAX_VERSION = 2**31 - 1


class EventStore:
    """Appends and reads events; writers never lock each other out, readers never skip."""

    def __init__(self, pool: asyncpg.Pool, poll_interval: float = 0.05) -> None:
        self.pool = pool
        self.poll_interval = poll_interval
        self.watcher = LogWatcher()

    async def append(
        self,
        *appends: StreamAppend,
        context: Context,
        idempotency_key: str | None = None,
        fingerprint: bytes | None = None,
        connection: Connection | None = None,
    ) -> AppendResult:
        """Append to one or more streams atomically, each at its expected version.

        Pass a connection to append inside the caller's open transaction.
        """
        ordered = sorted(appends, key=lambda a: a.stream_id)  # one lock order for all writers
        if len({a.stream_id for a in ordered}) != len(ordered):
            raise ValueError("each stream may appear once per append")
        args = _append_arguments(ordered, context)
        if idempotency_key is not None and fingerprint is None:
            fingerprint = _fingerprint(ordered)
        try:
            executor = self.pool if connection is None else connection
            rows = await executor.fetch(
                APPEND, idempotency_key, fingerprint, *args, *_context(context)
            )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != "events_stream_version":
                raise
            # A concurrent writer committed the same versions first: report where streams are now.
            raise await self._conflict(ordered) from None
        except asyncpg.PostgresError as error:
            if error.sqlstate == CONFLICT:
                stream, current = (error.detail or "").split()
                expected = next(a.expected_version for a in ordered if str(a.stream_id) == stream)
                raise ConcurrencyError(UUID(stream), expected, int(current)) from None
            if error.sqlstate == KEY_REUSED and idempotency_key is not None:
                raise IdempotencyKeyReused(idempotency_key) from None
            raise
        result = AppendResult(
            [Appended(r[0], r[1], r[2], r[3]) for r in rows],
            replayed=bool(rows) and rows[0][4],
        )
        self.watcher.log_grew()
        return result

    async def _conflict(self, appends: Sequence[StreamAppend]) -> ConcurrencyError:
        heads = {
            r[0]: r[1] for r in await self.pool.fetch(STREAM_HEADS, [a.stream_id for a in appends])
        }
        for a in appends:
            if heads[a.stream_id] != a.expected_version:
                return ConcurrencyError(a.stream_id, a.expected_version, heads[a.stream_id])
        first = appends[0]
        return ConcurrencyError(first.stream_id, first.expected_version, heads[first.stream_id])

    async def read_stream(
        self, stream_id: UUID, to_version: int | None = None, from_version: int = 1
    ) -> list[RecordedEvent]:
        """One stream's events in version order, optionally up to and including to_version."""
        to = MAX_VERSION if to_version is None else to_version
        rows = await self.pool.fetch(READ_STREAM, stream_id, from_version, to)
        return [RecordedEvent(*r) for r in rows]

    async def read_all(
        self,
        after: Checkpoint = START,
        limit: int = 1000,
        types: Sequence[str] | None = None,
    ) -> Page:
        """The global log after a checkpoint, in commit-safe order, up to the horizon."""
        if types is None:
            rows = await self.pool.fetch(READ_ALL, after.transaction_id, after.position, limit)
        else:
            rows = await self.pool.fetch(
                READ_ALL_OF_TYPES, after.transaction_id, after.position, limit, list(types)
            )
        events = [RecordedEvent(*r) for r in rows]
        return Page(events, events[-1].checkpoint if events else after)

    async def follow(self, after: Checkpoint = START, limit: int = 1000) -> AsyncIterator[Page]:
        """Yield pages of the log as they become readable, forever; the caller breaks out."""
        checkpoint = after
        while True:
            page = await self.read_all(checkpoint, limit)
            if page.events:
                checkpoint = page.checkpoint
                yield page
                if len(page.events) == limit:
                    continue
            await self.watcher.wait(self.poll_interval)

    async def head(self) -> Checkpoint:
        """The checkpoint of the newest readable event."""
        row = await self.pool.fetchrow(HEAD)
        return Checkpoint(row[0], row[1]) if row else Checkpoint()

    async def stream_info(self, stream_id: UUID) -> StreamInfo | None:
        """The stream's type, version and first and last recorded times, or None."""
        row = await self.pool.fetchrow(STREAM_INFO, stream_id)
        return None if row is None else StreamInfo(*row)

    async def verify_stream(self, stream_id: UUID) -> ChainBreak | None:
        """Recompute one stream's hash chain; return the first event that does not match."""
        return verify_chain(await self.read_stream(stream_id))


def _context(context: Context) -> tuple[object, ...]:
    return (
        context.actor,
        context.on_behalf_of,
        context.source,
        context.correlation_id,
        context.causation_id,
    )


def _append_arguments(appends: Sequence[StreamAppend], context: Context) -> list[list[Any]]:
    """Column arrays for append_events(); canonical bytes are computed here, hashes in SQL."""
    now = datetime.now(UTC)
    streams: list[Any] = []
    stream_types: list[Any] = []
    expected: list[Any] = []
    counts: list[Any] = []
    types: list[Any] = []
    type_versions: list[Any] = []
    payloads: list[Any] = []
    occurred: list[Any] = []
    canonical: list[Any] = []
    for a in appends:
        if not a.events:
            raise ValueError(f"no events to append to stream {a.stream_id}")
        streams.append(a.stream_id)
        stream_types.append(a.stream_type)
        expected.append(a.expected_version)
        counts.append(len(a.events))
        for offset, event in enumerate(a.events, start=1):
            payload_json = encode_payload(event.payload)
            at = now if event.occurred_at is None else utc(event.occurred_at)
            types.append(event.type)
            type_versions.append(event.type_version)
            payloads.append(payload_json.decode())
            occurred.append(at)
            canonical.append(
                canonical_bytes(
                    stream_id=a.stream_id,
                    stream_type=a.stream_type,
                    version=a.expected_version + offset,
                    type=event.type,
                    type_version=event.type_version,
                    occurred_at=at,
                    actor=context.actor,
                    on_behalf_of=context.on_behalf_of,
                    source=context.source,
                    correlation_id=context.correlation_id,
                    causation_id=context.causation_id,
                    payload_json=payload_json,
                )
            )
    return [
        streams,
        stream_types,
        expected,
        counts,
        types,
        type_versions,
        payloads,
        occurred,
        canonical,
    ]


def _fingerprint(appends: Sequence[StreamAppend]) -> bytes:
    """Identify a request by what it asks for, not by when it was sent."""
    body = [
        (
            str(a.stream_id),
            a.stream_type,
            a.expected_version,
            [(e.type, e.payload) for e in a.events],
        )
        for a in appends
    ]
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).digest()
