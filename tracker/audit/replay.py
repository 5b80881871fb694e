"""The log replayed into a scratch schema up to a cut, by bulk folds or by apply()."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence

from projections.base import Projection
from projections.bulk import BulkFold, dated_streams, events_of
from projections.bulk_rows import use_copy_codecs
from projections.runner import SEARCH_PATH
from tracker.audit.as_of import Cut
from tracker.database import Connection, init_connection
from tracker.eventstore.past import Until, replay_events, replay_folded

# Events folded between turns of the event loop: a page of 10,000 folded at once held up every
# other request of the process for tens of milliseconds.
TURN = 200


def until(cut: Cut) -> Until:
    """Where the store stops the replay: after the cut's event, or at its moment."""
    return cut.moment if cut.checkpoint is None else cut.checkpoint


async def replay(
    conn: Connection,
    projections: Sequence[Projection],
    schema: str,
    cut: Cut,
    below: int,
    batch_size: int,
) -> None:
    """Build every projection's tables up to the cut."""
    # In memory with its bulk fold where it has one, its rows written with COPY; otherwise
    # batch by batch with its apply().
    folds, rest = [], []
    for projection in projections:
        fold = projection.bulk()
        if fold is None:
            rest.append(projection)
        else:
            folds.append(fold)
    if rest:
        async for events in replay_events(conn, until(cut), below, batch_size):
            for projection in rest:
                async with conn.transaction():
                    await conn.execute(SEARCH_PATH, f"{schema}, public")
                    await projection.apply(conn, events)
    if folds:
        await _fold(conn, folds, schema, cut, below, batch_size)


async def _fold(
    conn: Connection, folds: list[BulkFold], schema: str, cut: Cut, below: int, batch_size: int
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
        async for rows in replay_folded(conn, until(cut), below, batch_size):
            for n, event in enumerate(events_of(rows, dated), 1):
                for fold in by_stream.get(event.stream_type, ()):
                    fold.apply(event)
                if n % TURN == 0:
                    # Let the server answer other requests between slices of the page.
                    await asyncio.sleep(0)
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
        # The connection goes back to the pool's codecs before the view queries run on it, or
        # before the pool hands it to anyone else when the replay was cut short.
        await conn.reset_type_codec("timestamptz", schema="pg_catalog")
        await conn.reset_type_codec("jsonb", schema="pg_catalog")
        await init_connection(conn)
