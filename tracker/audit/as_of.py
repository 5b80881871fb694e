"""Time travel: any single resource or view as it stood at a past moment or global position."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast
from uuid import UUID, uuid4

import asyncpg
import msgspec
from eventsourcing.domain import Aggregate
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from projections.base import Projection
from projections.bulk import FOLDED, BulkFold, dated_streams, events_of
from projections.bulk_rows import use_copy_codecs
from projections.queries.cache import ViewCache
from projections.registry import all_projections
from projections.runner import CREATE_SCHEMA, DROP_SCHEMA, SEARCH_PATH
from tracker.application.clock import Now
from tracker.application.principal import Principal
from tracker.database import Connection, init_connection
from tracker.domain import InvalidValue
from tracker.eventstore import START, Checkpoint, RecordedEvent
from tracker.eventstore.repository import AggregateNotFound, Repository
from tracker.eventstore.store import COLUMNS

A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)

# What "as of" means, for single resources and views alike:
# * a global position P: every event whose (transaction_id, position) pair is at or before the
#   pair of the event at P (the log's order; positions alone are not commit order);
# * a timestamp T (ISO 8601 with an offset): every event recorded at or before T (recorded_at is
#   the start of the transaction that wrote it, shared by all events of one append).
# Single resources replay their own stream up to version_at. Views run the live projections'
# own DDL and folds over the log up to the cut, into unlogged tables of a scratch schema, then the
# live view queries run there with "now" at the cut, and the schema is dropped.

AS_OF = (
    "Answer as of a past moment: a timestamp (ISO 8601 with an offset, such as "
    "2026-11-26T10:00:00Z; events recorded at or before it) or a global position (an integer; "
    "events at or before that event in the log's (transaction_id, position) order). "
    "Overdue is judged at that moment. 404 if the resource did not exist then."
)
AsOfQuery = Annotated[str | None, QueryParameter(description=AS_OF, min_length=1, max_length=64)]

# One per event loop: a process has one loop and pool.
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
# Events per page of the replay: a bulk build's page size (1,000 took a quarter longer).
BATCH = 10_000
DIGITS = re.compile(r"[0-9]{1,18}")

EVENT_AT = "SELECT transaction_id, position, recorded_at FROM events WHERE position = $1"
VERSION_AT_POSITION = """
SELECT (SELECT max(e.version) FROM events e
        WHERE e.stream_id = $1 AND (e.transaction_id, e.position) <= (p.transaction_id, p.position))
FROM events p WHERE p.position = $2
"""
VERSION_AT_MOMENT = "SELECT max(version) FROM events WHERE stream_id = $1 AND recorded_at <= $2"
# Taken before the replay writes anything: only transactions that had finished by then count,
# the same horizon live readers stop at, so an answer never includes a write still in flight.
HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())"
# Nothing written to the scratch tables needs to survive a crash: no WAL for them.
UNLOGGED = """
SELECT format('ALTER TABLE %I.%I SET UNLOGGED', schemaname, tablename)
FROM pg_tables WHERE schemaname = $1
"""
# Scratch schemas are named as_of_<unix time>_<random>; one older than this was left behind by
# a process that stopped during its request, and the next replay drops it.
STALE_SECONDS = 24 * 3600
EPOCH = "SELECT extract(epoch FROM clock_timestamp())::bigint"
SCRATCH = r"SELECT nspname FROM pg_namespace WHERE nspname ~ '^as_of_[0-9]+_[0-9a-f]+$'"
REPLAY_TO_POSITION = """
SELECT {columns} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND (transaction_id, position) <= ($3::xid8, $4)
  AND transaction_id < $5::xid8
ORDER BY transaction_id, position
LIMIT $6
"""
REPLAY_TO_MOMENT = """
SELECT {columns} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND recorded_at <= $3
  AND transaction_id < $4::xid8
ORDER BY transaction_id, position
LIMIT $5
"""


class AsOf(msgspec.Struct, frozen=True):
    """A past point: exactly one of a global position and a timestamp."""

    position: int | None = None
    moment: datetime | None = None


class Cut(msgspec.Struct, frozen=True):
    """Where a replay stops, and the moment overdue is judged at."""

    moment: datetime
    # Set for a position: the pair of the event at that position.
    checkpoint: Checkpoint | None = None


def parse_as_of(value: str | int | datetime | AsOf) -> AsOf:
    """A position or a timestamp from the query string; 422 naming as_of otherwise."""
    if isinstance(value, AsOf):
        return value
    if isinstance(value, bool):
        raise _bad("a timestamp or a global position")
    if isinstance(value, int):
        if value < 1:
            raise _bad("a global position is a positive integer")
        return AsOf(position=value)
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if DIGITS.fullmatch(text):
            return parse_as_of(int(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _bad("a timestamp (ISO 8601) or a global position (an integer)") from None
    if moment.tzinfo is None:
        # A time without an offset means different moments to different readers.
        raise _bad("the timestamp needs a UTC offset, such as Z or +01:00")
    return AsOf(moment=moment)


def _bad(reason: str) -> InvalidValue:
    return InvalidValue("as_of", reason)


async def resolve(db: asyncpg.Pool | Connection, as_of: str | int | datetime | AsOf) -> Cut:
    """The cut for as_of; a position must name an event that exists (422 otherwise)."""
    point = parse_as_of(as_of)
    if point.moment is not None:
        return Cut(moment=point.moment)
    row = await db.fetchrow(EVENT_AT, point.position)
    if row is None:
        raise _bad(f"no event at global position {point.position}")
    return Cut(moment=row["recorded_at"], checkpoint=Checkpoint(row[0], row[1]))


async def version_at(
    pool: asyncpg.Pool | Connection, stream_id: UUID, as_of: str | int | datetime | AsOf
) -> int | None:
    """The stream's last version at or before as_of, or None if it had no events then."""
    point = parse_as_of(as_of)
    if point.moment is not None:
        version = await pool.fetchval(VERSION_AT_MOMENT, stream_id, point.moment)
        return None if version is None else int(version)
    row = await pool.fetchrow(VERSION_AT_POSITION, stream_id, point.position)
    if row is None:
        raise _bad(f"no event at global position {point.position}")
    return None if row[0] is None else int(row[0])


async def get_as_of(
    repository: Repository,
    cls: type[A],
    aggregate_id: UUID,
    as_of: str | int | datetime | AsOf | None,
) -> A:
    """The aggregate now (shared: never change it) or as at as_of; 404 if it did not exist then."""
    if as_of is None:
        return await repository.read(cls, aggregate_id)
    version = await version_at(repository.store.pool, aggregate_id, as_of)
    if version is None:
        raise AggregateNotFound(repository.mapper.stream_types[cls], aggregate_id)
    return await repository.get(cls, aggregate_id, version=version)


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
) -> AsyncIterator[Views]:
    """The projections' tables rebuilt up to as_of, readable through the yielded Views."""
    # No transaction stays open while the log is replayed: its id would hold back the horizon
    # every live reader stops at, and the live views would stand still for as long. Rows go in
    # by short transactions; the views are read in a read-only one, which takes no id.
    wanted = all_projections() if projections is None else list(projections)
    async with _replay_slot(), pool.acquire() as conn:
        await _drop_stale(conn)
        cut = await resolve(conn, as_of)
        horizon = await conn.fetchval(HORIZON)
        schema = await _create_tables(conn, wanted)
        try:
            await _replay(conn, wanted, schema, cut, horizon, batch_size)
            async with conn.transaction(readonly=True):
                await conn.execute(SEARCH_PATH, f"{schema}, public")
                moment = cut.moment
                yield Views(cast(asyncpg.Pool, PinnedConnection(conn)), lambda: moment, cut)
        finally:
            try:
                await conn.execute(await conn.fetchval(DROP_SCHEMA, schema))
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                log.warning("could not drop %s; a replay a day from now will", schema)


def _replay_slot() -> asyncio.Semaphore:
    """One replay at a time in a process, the others wait their turn."""
    # Each holds its folded views in memory (a process replaying a million events peaked at
    # 258 MB), and a second would only share the same cores. It also leaves the pool's other
    # connections to the rest, such as an access check by the request holding the replay's.
    loop = asyncio.get_running_loop()
    slot = _SLOTS.get(loop)
    if slot is None:
        slot = _SLOTS[loop] = asyncio.Semaphore(1)
    return slot


async def _create_tables(conn: Connection, projections: Sequence[Projection]) -> str:
    """Every projection's tables, unlogged, in one new scratch schema; return its name."""
    schema = f"as_of_{await conn.fetchval(EPOCH)}_{uuid4().hex}"
    async with conn.transaction():
        await conn.execute(await conn.fetchval(CREATE_SCHEMA, schema))
        # Transaction-local, like the runner's: the same unqualified DDL as the live tables.
        await conn.execute(SEARCH_PATH, f"{schema}, public")
        for projection in projections:
            await conn.execute(projection.ddl)
        for (statement,) in await conn.fetch(UNLOGGED, schema):
            await conn.execute(statement)
    return schema


async def _drop_stale(conn: Connection) -> None:
    """Drop the scratch schemas of replays that never finished (their process stopped)."""
    # The database's clock: the one every process that names scratch schemas shares.
    now = await conn.fetchval(EPOCH)
    for (schema,) in await conn.fetch(SCRATCH):
        if int(schema.split("_")[2]) < now - STALE_SECONDS:
            await conn.execute(await conn.fetchval(DROP_SCHEMA, schema))


async def _replay(
    conn: Connection,
    projections: Sequence[Projection],
    schema: str,
    cut: Cut,
    horizon: int,
    batch_size: int,
) -> None:
    """Build every projection's tables up to the cut: in memory with its bulk fold where it has
    one, its rows written with COPY; otherwise batch by batch with its apply()."""
    folds, rest = [], []
    for projection in projections:
        fold = projection.bulk()
        if fold is None:
            rest.append(projection)
        else:
            folds.append(fold)
    if rest:
        async for rows in _pages(conn, COLUMNS, cut, horizon, batch_size):
            events = [RecordedEvent(*r) for r in rows]
            for projection in rest:
                async with conn.transaction():
                    await conn.execute(SEARCH_PATH, f"{schema}, public")
                    await projection.apply(conn, events)
    if folds:
        await _fold(conn, folds, schema, cut, horizon, batch_size)


async def _fold(
    conn: Connection, folds: list[BulkFold], schema: str, cut: Cut, horizon: int, batch_size: int
) -> None:
    """The bulk folds over the log up to the cut, a page at a time, each page's rows COPYed."""
    # Where apply() loads and saves rows batch by batch, a fold writes a page's rows in one
    # COPY: 25 s against 164 s for a view at the head of a million events (measured).
    for fold in folds:
        await fold.prepare(conn, schema)
    by_stream: dict[str, list[BulkFold]] = {}
    for fold in folds:
        for stream in fold.streams:
            by_stream.setdefault(stream, []).append(fold)
    dated = dated_streams(folds)
    await use_copy_codecs(conn)
    # As in a bulk build: the folded rows only grow, and full collections would walk them all.
    # In a server this also defers collecting other requests' cycles until the replay ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # The folds need no transaction id; the pages do, to go on from the last row.
        async for rows in _pages(conn, f"{FOLDED}, transaction_id", cut, horizon, batch_size):
            for event in events_of(rows, dated):
                for fold in by_stream.get(event.stream_type, ()):
                    fold.apply(event)
            for fold in folds:
                write = fold.take()
                if write is not None:
                    await write(conn)
        for fold in folds:
            await fold.write(conn)
            for table in fold.derived:
                await fold.fill(conn, table)
    finally:
        if collecting:
            gc.enable()
    # The connection goes back to the pool's codecs before the view queries run on it.
    await conn.reset_type_codec("timestamptz", schema="pg_catalog")
    await conn.reset_type_codec("jsonb", schema="pg_catalog")
    await init_connection(conn)


async def _pages(
    conn: Connection, columns: str, cut: Cut, horizon: int, batch_size: int
) -> AsyncIterator[list[asyncpg.Record]]:
    """Rows of the log up to the cut in global order, a batch at a time; the columns include
    position and transaction_id."""
    after = START
    while True:
        if cut.checkpoint is not None:
            to = cut.checkpoint
            rows = await conn.fetch(
                REPLAY_TO_POSITION.format(columns=columns),
                after.transaction_id,
                after.position,
                to.transaction_id,
                to.position,
                horizon,
                batch_size,
            )
        else:
            rows = await conn.fetch(
                REPLAY_TO_MOMENT.format(columns=columns),
                after.transaction_id,
                after.position,
                cut.moment,
                horizon,
                batch_size,
            )
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        after = Checkpoint(rows[-1]["transaction_id"], rows[-1]["position"])


async def provide_views(
    state: State, principal: NamedDependency[Principal], as_of: AsOfQuery = None
) -> AsyncIterator[Views]:
    """The live views, or with as_of the views as they stood then, for one request."""
    # It takes the principal only to be resolved after it, not beside it (see provide_commands).
    del principal
    if as_of is None:
        yield Views(state.pool, state.now, cache=state.view_cache)
        return
    async with views_as_of(state.pool, as_of) as past:
        yield past


ViewsDep = NamedDependency[Views]
