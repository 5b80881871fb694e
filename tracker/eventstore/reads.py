"""Group reads: concurrent reads of streams' newest events share one query."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg


class StreamReader:
    """Reads each stream's events after a version; reads queued meanwhile go in one query.

    One query is in flight at a time, and a read queued while it runs waits for the next, which
    starts after the read was asked for: it sees every event committed before that.
    """

    def __init__(self, pool: asyncpg.Pool, query: str) -> None:
        self.pool = pool
        self.query = query  # ($1 stream ids, $2 versions) -> rows ordered by stream and version
        self._queue: dict[UUID, tuple[int, asyncio.Future[list[Any]]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def after(self, stream_id: UUID, version: int) -> list[Any]:
        """The stream's rows with a version above version, in version order."""
        queued = self._queue.get(stream_id)
        if queued is None or queued[0] > version:
            # One entry per stream, from the lowest version any reader asked for.
            future = queued[1] if queued else _new_future()
            self._queue[stream_id] = (version, future)
        else:
            future = queued[1]
        if self._reader is None:
            self._reader = asyncio.create_task(self._drain())
        # Shielded: readers share the future, and one giving up must not cancel it for the rest.
        rows = await asyncio.shield(future)
        return [r for r in rows if r["version"] > version]

    async def _drain(self) -> None:
        batch: dict[UUID, tuple[int, asyncio.Future[list[Any]]]] = {}
        try:
            while self._queue:
                batch, self._queue = self._queue, {}
                await self._read(batch)
        finally:
            self._reader = None
            # Cancelled mid-read (the process is stopping): no reader waits forever.
            for _, future in [*batch.values(), *self._queue.values()]:
                if not future.done():
                    future.set_exception(asyncio.CancelledError())
            self._queue = {}

    async def _read(self, batch: dict[UUID, tuple[int, asyncio.Future[list[Any]]]]) -> None:
        ids = list(batch)
        try:
            rows = await self.pool.fetch(self.query, ids, [batch[i][0] for i in ids])
        except Exception as error:
            for _, future in batch.values():
                if not future.done():
                    future.set_exception(error)
            return
        by_stream: dict[UUID, list[Any]] = {i: [] for i in ids}
        for row in rows:
            by_stream[row["stream_id"]].append(row)
        for stream_id, (_, future) in batch.items():
            if not future.done():
                future.set_result(by_stream[stream_id])


def _new_future() -> asyncio.Future[list[Any]]:
    future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
    # Retrieved here too, so an error nobody waits for any more (every reader gave up) is
    # not reported as never retrieved.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future
