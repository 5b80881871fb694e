"""The event store on asyncpg: append, read a stream, read the global log, follow it live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from uuid import UUID

import asyncpg

from tracker.application.clock import Now, system_now
from tracker.application.errors import ConcurrencyError
from tracker.database import Connection
from tracker.eventstore import log
from tracker.eventstore.batch import AppendBatcher, WriteAlone
from tracker.eventstore.chain import GENESIS, ChainBreak, verify_chain
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
from tracker.eventstore.heads import StreamHeads
from tracker.eventstore.idempotency import first_attempt
from tracker.eventstore.live import LogWatcher
from tracker.eventstore.log import COLUMNS, Executor
from tracker.eventstore.rows import Rows
from tracker.eventstore.rows import fingerprint as _fingerprint
from tracker.observability.instruments import appended

# The idempotency key and request digest ride on the first event ($9, $10), so the unique
# index on the key refuses a second attempt in the same statement that writes the events.
INSERT = """
INSERT INTO events (stream_id, stream_type, version, type, type_version, payload, occurred_at,
                    hash, idempotency_key, request_digest,
                    actor, on_behalf_of, source, correlation_id, causation_id)
SELECT u.*, $11, $12, $13, $14, $15
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::smallint[], $6::text[]::jsonb[],
            $7::timestamptz[], $8::bytea[], $9::text[], $10::bytea[]) AS u
{guard}
RETURNING stream_id, version, position, transaction_id
"""
# The guard ($16, $17) inserts nothing unless every stream the command only read (and did not
# write) is still at the version it read. A read stream that moved before this statement
# began makes it write nothing; one that moves while it runs is not caught: reads take no locks.
# Written streams are guarded by the (stream_id, version) key, and appends that read nothing
# use the plain statement: the guard, even over no streams, measured a quarter fewer of them.
GUARD = """
WHERE NOT EXISTS (
    SELECT FROM unnest($16::uuid[], $17::int[]) AS g(stream_id, version)
    WHERE coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = g.stream_id), 0)
          <> g.version
)"""
GUARDED_INSERT = INSERT.format(guard=GUARD)
INSERT = INSERT.format(guard="")
HASHES_AT = """
SELECT e.stream_id, e.hash
FROM unnest($1::uuid[], $2::int[]) AS a(stream_id, version)
JOIN events e ON e.stream_id = a.stream_id AND e.version = a.version
"""

READ_STREAM = f"""
SELECT {COLUMNS} FROM events
WHERE stream_id = $1 AND version >= $2 AND version <= $3
ORDER BY version
"""
# Each stream's events after a version, for several streams in one query.
READ_STREAMS_AFTER = f"""
SELECT {COLUMNS} FROM unnest($1::uuid[], $2::int[]) AS s(after_id, after_version)
JOIN events ON stream_id = after_id AND version > after_version
ORDER BY stream_id, version
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
MAX_VERSION = 2**31 - 1
COALESCE_SECONDS = 0.005


class EventStore:
    """Appends and reads events; writers never lock each other out, readers never skip."""

    def __init__(
        self, pool: asyncpg.Pool, poll_interval: float = 0.05, now: Now = system_now
    ) -> None:
        self.pool = pool
        self.poll_interval = poll_interval
        # Stamps occurred_at on events that bring no time of their own.
        self.now = now
        self.watcher = LogWatcher()
        self._heads = StreamHeads()
        self._batcher = AppendBatcher(pool)

    async def append(
        self,
        *appends: StreamAppend,
        context: Context,
        idempotency_key: str | None = None,
        fingerprint: bytes | None = None,
        connection: Connection | None = None,
        unchanged: Mapping[UUID, int] | None = None,
    ) -> AppendResult:
        """Append to one or more streams atomically, each at its expected version.

        unchanged names streams read but not written, which must still be at those versions.
        Pass a connection to append inside the caller's open transaction.
        """
        db = self.pool if connection is None else connection
        ordered = sorted(appends, key=lambda a: a.stream_id)  # one lock order for all writers
        if len({a.stream_id for a in ordered}) != len(ordered):
            raise ValueError("each stream may appear once per append")
        if idempotency_key is not None:
            fingerprint = fingerprint or _fingerprint(ordered)
        read = sorted((unchanged or {}).items())
        guards = [(a.stream_id, a.expected_version) for a in ordered] + read
        try:
            previous = await self._previous_hashes(db, ordered)
            rows = Rows(ordered, previous, context, idempotency_key, fingerprint, self.now())
            # Inside a caller's transaction the append must stay in it, so it goes alone.
            inserted = await self._write(db, rows, read, alone=connection is not None)
            if not inserted:
                raise await self._conflict(guards)  # a stream moved: nothing was written
        except (asyncpg.UniqueViolationError, ConcurrencyError) as error:
            # A retry of an append that already landed also collides on its versions,
            # so the key is checked before any conflict is reported.
            if idempotency_key is not None:
                first = await self.replay(idempotency_key, fingerprint or b"")
                if first is not None:
                    return first
            if isinstance(error, ConcurrencyError):
                raise
            if error.constraint_name != "events_stream_version":
                raise
            # A concurrent writer committed these versions first: report where streams are now.
            raise await self._conflict(guards) from None
        for stream_id, version, hash_ in rows.heads():
            self._heads.remember(stream_id, version, hash_)
        self.watcher.log_grew()
        appended(len(inserted))
        return AppendResult(sorted((Appended(*r) for r in inserted), key=lambda e: e.position))

    async def _write(
        self,
        db: Executor,
        rows: Rows,
        read: Sequence[tuple[UUID, int]],
        alone: bool,
    ) -> list[asyncpg.Record]:
        """The inserted rows: one event joins the shared batch, anything else goes alone."""
        single = None if alone else rows.single()
        if single is not None:
            try:
                return await self._batcher.write(single, read)
            except WriteAlone:
                pass  # the batch was refused as a whole and wrote nothing: try alone
        return await _insert(db, rows, read)

    async def _previous_hashes(self, db: Executor, appends: Sequence[StreamAppend]) -> list[bytes]:
        """The hash each stream's chain continues from: its event at the expected version."""
        known = [
            GENESIS
            if a.expected_version == 0
            else self._heads.hash_at(a.stream_id, a.expected_version)
            for a in appends
        ]
        missing = [a for a, h in zip(appends, known, strict=True) if h is None]
        if missing:
            ids, versions = [a.stream_id for a in missing], [a.expected_version for a in missing]
            found = {r[0]: r[1] for r in await db.fetch(HASHES_AT, ids, versions)}
            if len(found) < len(missing):  # a stream is behind its expected version
                raise await self._conflict([(a.stream_id, a.expected_version) for a in appends])
            known = [
                found[a.stream_id] if h is None else h for a, h in zip(appends, known, strict=True)
            ]
        return [h for h in known if h is not None]

    async def replay(self, key: str, fingerprint: bytes) -> AppendResult | None:
        """The result of the append first made with this key; None if there was none."""
        # From the pool: a caller's transaction is aborted by the failed insert.
        return await first_attempt(self.pool, key, fingerprint)

    async def _conflict(self, guards: Sequence[tuple[UUID, int]]) -> ConcurrencyError:
        """The first stream not at its expected version (written streams come first)."""
        # From the pool: a caller's transaction may already be aborted by the failed insert.
        heads = {r[0]: r[1] for r in await self.pool.fetch(STREAM_HEADS, [g[0] for g in guards])}
        for stream_id, expected in guards:
            if heads[stream_id] != expected:
                return ConcurrencyError(stream_id, expected, heads[stream_id])
        stream_id, expected = guards[0]
        return ConcurrencyError(stream_id, expected, heads[stream_id])

    async def read_stream(
        self, stream_id: UUID, to_version: int | None = None, from_version: int = 1
    ) -> list[RecordedEvent]:
        """One stream's events in version order, optionally up to and including to_version."""
        to = MAX_VERSION if to_version is None else to_version
        rows = await self.pool.fetch(READ_STREAM, stream_id, from_version, to)
        events = [RecordedEvent(*r) for r in rows]
        if events:
            self._heads.remember(stream_id, events[-1].version, events[-1].hash)
        return events

    async def read_streams_after(self, versions: Sequence[tuple[UUID, int]]) -> list[RecordedEvent]:
        """Each stream's events after the version given for it, by stream then version."""
        rows = await self.pool.fetch(
            READ_STREAMS_AFTER, [v[0] for v in versions], [v[1] for v in versions]
        )
        events = [RecordedEvent(*r) for r in rows]
        for event in events:
            self._heads.remember(event.stream_id, event.version, event.hash)
        return events

    async def read_all(
        self,
        after: Checkpoint = START,
        limit: int = 1000,
        types: Sequence[str] | None = None,
        connection: Connection | None = None,
    ) -> Page:
        """The global log after a checkpoint, in commit-safe order, up to the horizon."""
        return await log.read_all(
            self.pool if connection is None else connection, after, limit, types
        )

    async def versions_after(
        self, after: Checkpoint, limit: int = 1000
    ) -> tuple[list[tuple[UUID, int]], Checkpoint]:
        """Which streams reached which versions after a checkpoint (see log.versions_after)."""
        return await log.versions_after(self.pool, after, limit)

    async def follow(self, after: Checkpoint = START, limit: int = 1000) -> AsyncIterator[Page]:
        """Yield pages of the log as they become readable, forever; the caller breaks out."""
        loop = asyncio.get_running_loop()
        checkpoint = after
        behind = (
            0  # reads since a wake-up that found nothing: an open transaction holds the horizon
        )
        while True:
            started = loop.time()
            page = await self.read_all(checkpoint, limit)
            if page.events:
                checkpoint, behind = page.checkpoint, 0
                yield page
                if len(page.events) == limit:
                    continue
            wait = self.poll_interval if behind == 0 else min(self.poll_interval, 0.01)
            woken = await self.watcher.wait(wait)
            behind = 20 if woken else max(0, behind - 1)
            # Under load every append wakes us; one read per few milliseconds serves them all.
            await asyncio.sleep(max(0.0, started + COALESCE_SECONDS - loop.time()))

    async def head(self) -> Checkpoint:
        """The checkpoint of the newest readable event."""
        return await log.head(self.pool) or Checkpoint()

    async def stream_info(self, stream_id: UUID) -> StreamInfo | None:
        """The stream's type, version and first and last recorded times, or None."""
        row = await self.pool.fetchrow(STREAM_INFO, stream_id)
        return None if row is None else StreamInfo(*row)

    async def verify_stream(self, stream_id: UUID) -> ChainBreak | None:
        """Recompute one stream's hash chain; return the first event that does not match."""
        return verify_chain(await self.read_stream(stream_id))


async def _insert(
    db: Executor, rows: Rows, read: Sequence[tuple[UUID, int]]
) -> list[asyncpg.Record]:
    """Write an append in a statement of its own; nothing if a read stream moved."""
    if not read:
        return await db.fetch(INSERT, *rows.arguments)
    ids, versions = [g[0] for g in read], [g[1] for g in read]
    return await db.fetch(GUARDED_INSERT, *rows.arguments, ids, versions)
