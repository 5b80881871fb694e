"""The views as they stood at a past cut of the log, read from the projections' history."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg

from projections.queries.cache import ViewCache
from projections.registry import all_projections
from projections.runner import SEARCH_PATH
from tracker.application.clock import Now
from tracker.audit.as_of import AsOf, Cut, resolve
from tracker.database import Connection
from tracker.eventstore import Checkpoint

# The schema of past views (migrations/0012_past_views.sql), ahead of the live ones.
PAST_PATH = "past, public"
SET_CUT = """
SELECT set_config('tracker.cut_tx', $1::text, true), set_config('tracker.cut_pos', $2::text, true)
"""
# Whether every projection with history has applied the log up to the cut.
REACHED = """
SELECT count(*) = cardinality($3::text[])
FROM projections p JOIN projection_generations g
  ON g.name = p.name AND g.generation = p.live_generation
WHERE p.name = ANY($3::text[])
  AND (g.transaction_id::text::bigint, g.position) >= ($1::bigint, $2::bigint)
"""
# One per event loop: a process has one loop and pool.
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
# How often a reader asks whether the projections have reached its cut.
POLL_SECONDS = 0.05


class PinnedConnection:
    """The part of asyncpg.Pool the view queries use, answered by one pinned connection."""

    # The cut and the search path are settings of that connection's open transaction, so
    # every query and every acquire() must land on it.

    def __init__(self, conn: Connection, timeout: float | None = None) -> None:
        self.conn, self.timeout = conn, timeout

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """As Pool.fetch."""
        return await self.conn.fetch(query, *args, timeout=self.timeout)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """As Pool.fetchrow."""
        return await self.conn.fetchrow(query, *args, timeout=self.timeout)

    async def fetchval(self, query: str, *args: Any) -> Any:
        """As Pool.fetchval."""
        return await self.conn.fetchval(query, *args, timeout=self.timeout)

    async def execute(self, query: str, *args: Any) -> str:
        """As Pool.execute."""
        return await self.conn.execute(query, *args, timeout=self.timeout)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[PinnedConnection]:
        """As Pool.acquire, always handing out the pinned connection."""
        yield self


@dataclass(frozen=True, slots=True)
class Views:
    """Where a view query reads and the clock it judges overdue by: live, or as of a cut."""

    # Typed as a pool so the view query functions take it unchanged (see PinnedConnection).
    pool: asyncpg.Pool
    now: Now
    cut: Cut | None = None
    # Live views only: a past view is read once.
    cache: ViewCache | None = None


class NotReached(Exception):
    """The projections had not applied the log up to the cut within the wait."""


@asynccontextmanager
async def views_as_of(
    pool: asyncpg.Pool,
    as_of: str | int | datetime | AsOf,
    wait: float | None = None,
    query_seconds: float | None = None,
) -> AsyncIterator[Views]:
    """The views as of a cut, readable through the yielded Views by the live views' queries.

    Each row of a projection with history carries the range of the log during which it held;
    the past views show the rows whose range holds the cut. With wait, NotReached if the
    projections have not applied the log up to the cut within that many seconds; with
    query_seconds, each query is cancelled after that many seconds.
    """
    async with _slot(pool), pool.acquire() as conn:
        cut = await resolve(conn, as_of)
        await _reached(conn, cut.checkpoint, wait)
        async with conn.transaction(readonly=True):
            await conn.execute(SEARCH_PATH, PAST_PATH)
            at = cut.checkpoint
            await conn.execute(SET_CUT, str(at.transaction_id), str(at.position))
            moment = cut.moment
            past = cast(asyncpg.Pool, PinnedConnection(conn, query_seconds))
            yield Views(past, lambda: moment, cut)


async def _reached(conn: Connection, at: Checkpoint, wait: float | None) -> None:
    """Return once every projection with history has applied the log up to at."""
    names = [p.name for p in all_projections() if p.history]
    try:
        async with asyncio.timeout(wait):
            # Only a cut among the newest events waits: the runner applies them within moments.
            # Its progress is rows in the database, perhaps another process's: asked for again.
            while not await conn.fetchval(REACHED, at.transaction_id, at.position, names):  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise NotReached(f"the views had not reached the cut within {wait} s") from None


def _slot(pool: asyncpg.Pool) -> asyncio.Semaphore:
    """Past reads under way at once in a process: at most half the pool's connections."""
    # Each holds a connection for its request, which may need another (an access check): the
    # other half stays for those and for everything else.
    loop = asyncio.get_running_loop()
    slot = _SLOTS.get(loop)
    if slot is None:
        slot = _SLOTS[loop] = asyncio.Semaphore(max(1, pool.get_max_size() // 2))
    return slot
