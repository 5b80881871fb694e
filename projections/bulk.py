"""Build fresh generations in memory: read the log once for all of them, fold it with the
projections' own folds, COPY each table, then write the checkpoint."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Container, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

import asyncpg
import msgspec

from projections.bulk_rows import Table, use_copy_codecs
from projections.bulk_target import Target
from projections.history import RANGE, Shape
from projections.pg_time import from_count
from projections.runner import SEARCH_PATH, Connect
from tracker.database import Connection
from tracker.eventstore import Checkpoint, RecordedEvent
from tracker.eventstore.log import head
from tracker.eventstore.scan import count_up_to, folded_cursor

if TYPE_CHECKING:
    from projections.base import Projection

log = logging.getLogger(__name__)

PAGE = 10_000

SORT_MEMORY = "SET LOCAL work_mem = '128MB'"
# A million-row scan gains nothing from compiling expressions, and under load it can cost more.
NO_JIT = "SET jit = off"
# Every table of a generation's schema: all of them belong to the projection being built.
TABLES = "SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables WHERE schemaname = $1"
Progress = Callable[[int, int, float], None]


class BulkFold:
    """One projection's whole history folded in memory, its tables written once each."""

    # The stream types whose events the fold reads.
    streams: ClassVar[tuple[str, ...]]
    # True for a fold that only copies event times into its rows: its events' occurred_at
    # may then stay PostgreSQL's count of microseconds, never made into datetimes.
    copies_times: ClassVar[bool] = False

    # Tables filled by one statement from the tables write() wrote, once those are written: a
    # bulk build runs each on its table's own connection, beside the other tables' indexes.
    derived: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.schema = ""
        self.table: dict[str, Table] = {}

    async def prepare(self, conn: Connection, schema: str) -> None:
        """Learn the generation's schema and the columns of its tables."""
        self.schema = schema
        for name in await conn.fetchval(TABLES, schema):
            self.table[name] = await Table.load(conn, schema, name)

    def history_shapes(self, tables: Iterable[str]) -> dict[str, Shape]:
        """How a row of each table becomes the record of its version in the table's history,
        less the range columns that close the history's columns."""
        out: dict[str, Shape] = {}
        for name in tables:
            history = self.table[f"{name}_history"]
            assert history.columns[-len(RANGE) :] == RANGE, history.columns
            out[name] = history.head(len(history.columns) - len(RANGE)).record
        return out

    def apply(self, event: RecordedEvent) -> None:
        """Fold one event."""
        raise NotImplementedError

    def take(self) -> Callable[[Connection], Awaitable[None]] | None:
        """After a page: hand over the rows of append-only tables folded so far, as a write
        to run while the next page is folded, so they never pile up in memory."""
        return None

    async def write(self, conn: Connection) -> None:
        """Write the rest of the tables on conn, before the checkpoint is written."""
        raise NotImplementedError

    async def fill(self, conn: Connection, table: str) -> None:
        """Fill one derived table in the generation's schema, after write()."""
        async with conn.transaction():
            await conn.execute(SEARCH_PATH, f"{self.schema}, public")
            # A history's derived rows are sorted by purpose: in memory, not in files.
            await conn.execute(SORT_MEMORY)
            await conn.execute(self.derived[table])


def dated_streams(folds: Iterable[BulkFold]) -> set[str]:
    """The stream types some fold wants real datetimes for, not counts."""
    return {s for fold in folds if not fold.copies_times for s in fold.streams}


def events_of(rows: Iterable[asyncpg.Record], dated: Container[str]) -> Iterator[RecordedEvent]:
    """Rows of the store's FOLDED columns as the envelopes the folds read; the rest of each is
    left empty."""
    decode = msgspec.json.decode
    for r in rows:
        at = from_count(r[6]) if r[2] in dated else r[6]
        yield RecordedEvent(
            r[0], r[8], r[1], r[2], r[3], r[4], 1, decode(r[5]), at, at, r[7],
            None, None, None, None, b"",
        )  # fmt: skip


async def build(
    connect: Connect,
    targets: Sequence[tuple[Projection, int]],
    progress: Progress | None = None,
) -> list[str]:
    """Build empty generations from the whole log in one read; return the projections built.

    The checkpoint is written after every row, so an interrupted build leaves a generation at
    the start of the log, and the next one empties it and starts again. A fold that fails is
    left out, its tables emptied, for the live path to replay and stop at the failing event.
    """
    built: list[Target] = []
    read = await connect()
    try:
        await read.execute(NO_JIT)
        await use_copy_codecs(read)
        built += await _targets(read, targets)
        end = await head(read)
        if end is None or not built:
            return []
        for target in built:
            if not await target.begin(connect):
                target.failed = True  # replayed by the live path from its checkpoint, as it is
                target.close()
        if all(target.failed for target in built):
            return []
        events = await _scan(read, built, end, progress)
        for target in built:
            if target.discarded:
                await target.discard(connect)
        # Each generation is written on its own connection: side by side, the server works on
        # one's rows and indexes while this process encodes another's.
        async with asyncio.TaskGroup() as group:
            for target in built:
                if not target.failed:
                    group.create_task(target.commit(connect, end, events))
        await read.close()
        return [t.name for t in built if not t.failed]
    finally:
        for target in built:
            target.close()
        if not read.is_closed():
            read.terminate()  # interrupted: no need to wait for the server


async def _targets(
    read: asyncpg.Connection, targets: Sequence[tuple[Projection, int]]
) -> list[Target]:
    """A target for each generation whose projection has a bulk fold, its tables learnt."""
    out = []
    for projection, generation in targets:
        fold = projection.bulk()
        if fold is not None:
            await fold.prepare(read, projection.schema(generation))
            out.append(Target(projection, generation, fold))
    return out


async def _scan(
    read: asyncpg.Connection,
    targets: list[Target],
    end: Checkpoint,
    progress: Progress | None,
) -> int:
    """Feed every event up to end to the folds that read its stream; return how many."""
    streams = sorted({s for t in targets if not t.failed for s in t.fold.streams})
    total = await count_up_to(read, end, streams)
    by_stream = _by_stream(targets)
    dated = dated_streams(t.fold for t in targets)
    started, done = time.monotonic(), 0
    # Committed only when the read completes; after an interruption build() drops the
    # connection instead, since a cancelled fetch may still be running on it.
    reading = read.transaction(readonly=True)
    await reading.start()
    cursor = await folded_cursor(read, end, streams)
    # The folded rows live until the build ends, and the folds make no cycles: the collector
    # would only walk the whole growing heap again and again (a third of the time, measured).
    collecting = gc.isenabled()
    gc.disable()
    # Ask for the next page before folding this one, so the server works meanwhile.
    pending = asyncio.ensure_future(cursor.fetch(PAGE))
    try:
        while rows := await pending:
            pending = asyncio.ensure_future(cursor.fetch(PAGE))
            # Let it send the request now: folding below never yields to the event loop.
            await asyncio.sleep(0)
            by_stream = _fold_page(rows, dated, by_stream, targets)
            for target in targets:
                if not target.failed:
                    await target.flush()
            done += len(rows)
            if progress is not None:
                progress(done, max(total, done), time.monotonic() - started)
    finally:
        if collecting:
            gc.enable()
        if not pending.done():
            pending.cancel()
    await reading.commit()
    return done


def _fold_page(
    rows: list[asyncpg.Record],
    dated: set[str],
    by_stream: dict[str, list[Target]],
    targets: list[Target],
) -> dict[str, list[Target]]:
    """Feed a page to the folds that read each event's stream; return them less any that failed."""
    for event in events_of(rows, dated):
        for target in by_stream[event.stream_type]:
            try:
                target.fold.apply(event)
            except Exception:
                log.exception(
                    "bulk build of %s failed at position %s; it will be replayed",
                    target.name,
                    event.position,
                )
                target.abandon()
                by_stream = _by_stream(targets)
    return by_stream


def _by_stream(targets: list[Target]) -> dict[str, list[Target]]:
    """The folds that read each stream type, leaving out failed ones."""
    out: dict[str, list[Target]] = {}
    for target in targets:
        for stream in target.fold.streams:
            out.setdefault(stream, [])
            if not target.failed:
                out[stream].append(target)
    return out
