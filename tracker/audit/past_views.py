"""The views as they stood at a past moment, rebuilt in a scratch schema for one request."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg

from projections.base import Projection
from projections.queries.cache import ViewCache
from projections.registry import all_projections
from projections.runner import DROP_SCHEMA, SEARCH_PATH
from tracker.application.clock import Now
from tracker.audit.as_of import AsOf, Cut, resolve
from tracker.audit.replay import replay
from tracker.audit.replay_apart import replay_apart
from tracker.audit.scratch import create_tables, drop_stale, scratch_name
from tracker.database import Connection
from tracker.eventstore.past import horizon

log = logging.getLogger(__name__)

# One per event loop: a process has one loop and pool.
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
# Events per page of the replay: a bulk build's page size (1,000 took a quarter longer).
BATCH = 10_000
NO_STATEMENT_LIMIT = "SET statement_timeout = 0"


class PinnedConnection:
    """The part of asyncpg.Pool the view queries use, answered by one pinned connection."""

    # The replayed tables exist only inside that connection's open transaction, so every query
    # and every acquire() must land on it.

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """As Pool.fetch."""
        return await self.conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """As Pool.fetchrow."""
        return await self.conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        """As Pool.fetchval."""
        return await self.conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        """As Pool.execute."""
        return await self.conn.execute(query, *args)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        """As Pool.acquire, always handing out the pinned connection."""
        yield self.conn


@dataclass(frozen=True, slots=True)
class Views:
    """Where a view query reads and the clock it judges overdue by: live, or as of a moment."""

    # Typed as a pool so the view query functions take it unchanged (see PinnedConnection).
    pool: asyncpg.Pool
    now: Now
    cut: Cut | None = None
    # Live views only: a view as of the past is computed once and thrown away.
    cache: ViewCache | None = None


@asynccontextmanager
async def views_as_of(
    pool: asyncpg.Pool,
    as_of: str | int | datetime | AsOf,
    projections: Sequence[Projection] | None = None,
    batch_size: int = BATCH,
    wait: float | None = None,
    time_limit: float | None = None,
    apart: str | None = None,
) -> AsyncIterator[Views]:
    """The projections' tables rebuilt up to as_of, readable through the yielded Views.

    With wait, ReplayBusy if the process's replay slot is not free within that many seconds;
    with time_limit, TimeoutError (its query cancelled, its schema dropped) if the replay and the
    reads of the yielded views take longer than that from when the slot was taken. With apart,
    a database URL, the replay runs in a child process connecting there (registered projections
    only).
    """
    # No transaction stays open while the log is replayed: its id would hold back the horizon
    # every live reader stops at, and the live views would stand still for as long. Rows go in
    # by short transactions; the views are read in a read-only one, which takes no id.
    if projections is None:
        wanted = [p for p in all_projections() if p.replayed_as_of]
    else:
        wanted = list(projections)
    async with _waited(replay_slot(), wait), pool.acquire() as conn:
        schema = await scratch_name(conn)
        try:
            # The pool's statement limit is lifted for the replay, whose own time_limit bounds
            # it as a whole and cancels it on the server; RESET below restores it.
            await conn.execute(NO_STATEMENT_LIMIT)
            async with asyncio.timeout(time_limit):
                await drop_stale(conn)
                cut = await resolve(conn, as_of)
                # Taken before the replay writes anything: only transactions that had finished
                # by then count, so an answer never includes a write still in flight.
                below = await horizon(conn)
                await create_tables(conn, wanted, schema)
                if apart is None:
                    await replay(conn, wanted, schema, cut, below, batch_size)
                else:
                    await replay_apart(conn, apart, wanted, schema, cut, below, batch_size)
                async with conn.transaction(readonly=True):
                    await conn.execute(SEARCH_PATH, f"{schema}, public")
                    moment = cut.moment
                    yield Views(cast(asyncpg.Pool, PinnedConnection(conn)), lambda: moment, cut)
        finally:
            try:
                await conn.execute("RESET statement_timeout")
                await conn.execute(await conn.fetchval(DROP_SCHEMA, schema))
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                log.warning("could not drop %s; a replay a day from now will", schema)


class ReplayBusy(Exception):
    """The process's replay slot stayed taken for longer than the caller would wait."""


@asynccontextmanager
async def _waited(slot: asyncio.Semaphore, wait: float | None) -> AsyncIterator[None]:
    """Hold the slot, waiting for it at most wait seconds (None: as long as it takes)."""
    try:
        async with asyncio.timeout(wait):
            await slot.acquire()
    except TimeoutError:
        raise ReplayBusy(f"another replay held the slot for more than {wait} s") from None
    try:
        yield
    finally:
        slot.release()


def replay_slot() -> asyncio.Semaphore:
    """One replay at a time in a process, the others wait their turn."""
    # Each holds its folded views in memory (a process replaying a million events peaked at
    # 258 MB), and a second would only share the same cores. It also leaves the pool's other
    # connections to the rest, such as an access check by the request holding the replay's.
    loop = asyncio.get_running_loop()
    slot = _SLOTS.get(loop)
    if slot is None:
        slot = _SLOTS[loop] = asyncio.Semaphore(1)
    return slot
