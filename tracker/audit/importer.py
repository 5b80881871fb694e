"""Import an export into an empty store: the same events, positions, times and hashes, in the
same global order, so chains, leaves and views come out identical."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import msgspec

from tracker.audit.chains import Chains
from tracker.database import Connection
from tracker.eventstore import ExportedEvent, RecordedEvent
from tracker.eventstore.log import has_events
from tracker.eventstore.transfer import import_transaction, reset_positions

IMPORT_LOCK = 7_301_555_116
LOCK = "SELECT pg_advisory_lock($1)"
UNLOCK = "SELECT pg_advisory_unlock($1)"


# Every other client session on the database: a server serving it (`tracker serve`, its
# projection runner or sealer), or anyone else who would read or write while it is restored.
OTHER_SESSIONS = """
SELECT pid, coalesce(nullif(application_name, ''), 'unnamed') AS name,
       coalesce(host(client_addr), 'local') AS client
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
ORDER BY pid
"""


class ImportRefused(Exception):
    """The store is not empty, the database is in use, or the file is not a valid export."""


async def refuse_if_in_use(conn: Connection) -> None:
    """Refuse while any other session is connected: a server serving the database would
    append, project and seal around a half-restored log."""
    others = await conn.fetch(OTHER_SESSIONS)
    if others:
        named = ", ".join(f"{r['name']} (pid {r['pid']}, {r['client']})" for r in others[:5])
        raise ImportRefused(
            f"the database is in use by {len(others)} other session(s): {named}; stop the "
            "server (and every other client) before importing"
        )


def read(path: Path) -> Iterator[ExportedEvent]:
    """The events of an export file, one line at a time."""
    decoder = msgspec.json.Decoder(ExportedEvent)
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                yield decoder.decode(line)
            except msgspec.DecodeError as error:  # malformed JSON, or a field missing or wrong
                raise ImportRefused(f"line {number}: {error}") from None


def recorded(e: ExportedEvent) -> RecordedEvent:
    """The event as the store would read it back."""
    return RecordedEvent(
        e.position,
        e.transaction_id,
        e.stream_id,
        e.stream_type,
        e.version,
        e.type,
        e.type_version,
        msgspec.json.decode(e.payload),
        e.occurred_at,
        e.recorded_at,
        e.actor,
        e.on_behalf_of,
        e.source,
        e.correlation_id,
        e.causation_id,
        bytes.fromhex(e.hash),
    )


def check(path: Path) -> int:
    """Verify a whole file before anything is written: global order and every hash chain."""
    chains = Chains()
    previous = (-1, -1)
    count = 0
    for index, e in enumerate(read(path)):
        here = (e.transaction_id, e.position)
        if here <= previous:
            raise ImportRefused(
                f"stream {e.stream_id} version {e.version} (position {e.position}) is out of "
                "global order"
            )
        previous = here
        try:
            event = recorded(e)
            if e.request_digest is not None:
                bytes.fromhex(e.request_digest)  # refused now, not half way through the load
        except (ValueError, msgspec.DecodeError) as error:
            raise ImportRefused(f"position {e.position}: {error}") from None
        chains.add(event, index)
        count += 1
    breaks = chains.finish()
    if breaks:
        b = breaks[0]
        raise ImportRefused(
            f"the hash chain does not verify at stream {b.stream_id} version {b.version} "
            f"(position {b.position}): {b.reason}"
        )
    return count


def _groups(path: Path) -> Iterator[list[ExportedEvent]]:
    """The events of each exported transaction together, in order."""
    group: list[ExportedEvent] = []
    for e in read(path):
        if group and e.transaction_id != group[0].transaction_id:
            yield group
            group = []
        group.append(e)
    if group:
        yield group


async def import_log(pool: asyncpg.Pool, path: Path) -> int:
    """Load an export into an empty store; return the number of events imported.

    The file is read twice: once to verify it, so a bad file writes nothing, then to load it.
    """
    async with pool.acquire() as conn:
        # One import at a time; the emptiness check is only meaningful under the lock.
        await conn.execute(LOCK, IMPORT_LOCK)
        try:
            if await has_events(conn):
                raise ImportRefused("the event store is not empty; import only into a new one")
            count = await asyncio.to_thread(check, path)
            for group in _groups(path):
                await import_transaction(conn, group)  # autocommit: one transaction each
            if count:
                await reset_positions(conn)
            return count
        finally:
            await conn.execute(UNLOCK, IMPORT_LOCK)


async def import_command(pool: asyncpg.Pool, path: Path) -> int:
    """`tracker audit import FILE`: say what was imported, or why not. The pool must be of one
    connection: any other session on the database refuses the import."""
    try:
        async with pool.acquire() as conn:
            await refuse_if_in_use(conn)
        count = await import_log(pool, path)
    except (ImportRefused, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"imported {count:,} events; the views build from them when projections next run "
        "(`tracker serve` or `tracker projections run`)"
    )
    return 0
