"""Group commit: concurrent single-event appends share one INSERT and one commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from tracker.observability.instruments import batch_written

# Each row is written or skipped on its own: a row whose version or idempotency key is taken,
# or whose read guard ($16-$18, by row number) no longer holds, is left out and the rest land.
# That is all-or-nothing per append only because every append in a batch is a single event.
INSERT_ROWS = """
INSERT INTO events (stream_id, stream_type, version, type, type_version, payload, occurred_at,
                    hash, idempotency_key, request_digest,
                    actor, on_behalf_of, source, correlation_id, causation_id)
SELECT stream_id, stream_type, version, type, type_version, payload::jsonb, occurred_at,
       hash, idempotency_key, request_digest,
       actor, on_behalf_of, source, correlation_id, causation_id
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::smallint[], $6::text[],
            $7::timestamptz[], $8::bytea[], $9::text[], $10::bytea[],
            $11::text[], $12::text[], $13::text[], $14::uuid[], $15::uuid[])
     WITH ORDINALITY AS u(stream_id, stream_type, version, type, type_version, payload,
                          occurred_at, hash, idempotency_key, request_digest,
                          actor, on_behalf_of, source, correlation_id, causation_id, n)
{guard}
ORDER BY n
ON CONFLICT DO NOTHING
RETURNING stream_id, version, position, transaction_id
"""
GUARD = """
WHERE NOT EXISTS (
    SELECT FROM unnest($16::int[], $17::uuid[], $18::int[]) AS g(n, stream_id, version)
    WHERE g.n = u.n
      AND coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = g.stream_id), 0)
          <> g.version
)"""
GUARDED_INSERT_ROWS = INSERT_ROWS.format(guard=GUARD)
INSERT_ROWS = INSERT_ROWS.format(guard="")

MAX_ROWS = 500
COLUMNS = 15


class WriteAlone(Exception):
    """The batch was refused as a whole, nothing written: each append tries alone."""


class Row:
    """One single-event append: its 15 column values and the streams it read."""

    __slots__ = ("guards", "keyed", "stream_id", "values", "version", "written")

    def __init__(self, values: Sequence[Any], guards: Sequence[tuple[UUID, int]]) -> None:
        self.values = values
        self.stream_id: UUID = values[0]
        self.version: int = values[2]
        self.keyed = values[8] is not None  # it carries an idempotency key
        self.guards = guards
        self.written: asyncio.Future[asyncpg.Record | None] = (
            asyncio.get_running_loop().create_future()
        )


class AppendBatcher:
    """Queues single-event appends and writes whatever has queued in one statement.

    One batch is in flight at a time: appends arriving meanwhile wait for the next one, so an
    idle server writes each append at once and a busy one writes many per round trip.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._queue: list[Row] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(
        self, values: Sequence[Any], guards: Sequence[tuple[UUID, int]]
    ) -> list[asyncpg.Record]:
        """The row as inserted, or nothing when a conflict, its key or a guard kept it out."""
        row = Row(values, guards)
        self._queue.append(row)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        inserted = await row.written
        return [] if inserted is None else [inserted]

    async def _drain(self) -> None:
        batch: list[Row] = []
        try:
            while self._queue:
                batch, self._queue = _take(self._queue)
                await self._write(batch)
        finally:
            self._writer = None
            # Cancelled mid-write (the process is stopping): no caller waits forever, and
            # nothing queued is written later behind its caller's back.
            pending, self._queue = batch + self._queue, []
            _settle(pending, asyncio.CancelledError())

    async def _write(self, batch: list[Row]) -> None:
        # One lock order for every writer: rows go in by stream id, so two batches cannot
        # deadlock on each other's (stream_id, version) keys (idempotency keys can: below).
        batch.sort(key=lambda r: r.stream_id)
        columns: list[list[Any]] = [[r.values[i] for r in batch] for i in range(COLUMNS)]
        guards = [(n, *g) for n, r in enumerate(batch, start=1) for g in r.guards]
        try:
            if guards:
                numbers, ids, versions = (list(x) for x in zip(*guards, strict=True))
                rows = await self.pool.fetch(GUARDED_INSERT_ROWS, *columns, numbers, ids, versions)
            else:
                rows = await self.pool.fetch(INSERT_ROWS, *columns)
        except (
            asyncpg.DataError,
            asyncpg.IntegrityConstraintViolationError,
            asyncpg.TransactionRollbackError,
        ) as error:
            # PostgreSQL refused the statement for some row's values, or rolled it back out of
            # a deadlock (rows go in by stream id, but their idempotency keys can cross another
            # writer's), so nothing was written: each append tries alone.
            _settle(batch, WriteAlone(str(error)))
            return
        except Exception as error:
            # Anything else (a lost connection, say) may or may not have committed: every
            # caller hears of it, as it would have alone, and its retry key decides.
            _settle(batch, error)
            return
        batch_written(len(batch))
        landed = {(r[0], r[1]): r for r in rows}
        for row in batch:
            if not row.written.done():
                row.written.set_result(landed.get((row.stream_id, row.version)))


def _take(queue: list[Row]) -> tuple[list[Row], list[Row]]:
    """The next batch, and what waits for the one after.

    A batch touches each stream once: a row that writes or reads a stream an earlier row
    of the batch writes waits, so the batch means what some serial order of appends means.
    Rows with an idempotency key and rows without never share a batch, so that a retry finds
    its append as the keyed event and what follows it up to the next keyed one (replay).
    """
    batch: list[Row] = []
    later: list[Row] = []
    written: set[UUID] = set()
    read: set[UUID] = set()
    keyed = queue[0].keyed
    for row in queue:
        reads = {g[0] for g in row.guards}
        if (
            len(batch) >= MAX_ROWS
            or row.keyed != keyed
            or row.stream_id in written
            or row.stream_id in read
            or not reads.isdisjoint(written)
        ):
            later.append(row)
            continue
        batch.append(row)
        written.add(row.stream_id)
        read |= reads
    return batch, later


def _settle(batch: list[Row], error: BaseException) -> None:
    for row in batch:
        if not row.written.done():
            row.written.set_exception(error)
