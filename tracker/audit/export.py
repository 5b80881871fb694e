"""Export the log as NDJSON: one object per event with its whole envelope and chain hash."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import asyncpg
import msgspec

from tracker.eventstore import ExportedEvent, LogFilter
from tracker.eventstore.transfer import export_pages

MEDIA_TYPE = "application/x-ndjson"
PAGE = 5000

# Which part of the log to export; the default is all of it.
ExportFilter = LogFilter

__all__ = [
    "MEDIA_TYPE",
    "ExportFilter",
    "ExportedEvent",
    "export",
    "export_command",
    "moment",
    "write",
]


def moment(text: str) -> datetime:
    """A time on the command line: ISO 8601 with its offset (a bare time would be ambiguous)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text} needs a time zone offset, such as Z or +01:00")
    return value


async def export(
    pool: asyncpg.Pool, only: ExportFilter | None = None, page: int = PAGE
) -> AsyncIterator[bytes]:
    """Yield the log as NDJSON, a page of lines at a time, in global order, at constant memory,
    up to the head readable when it starts (see transfer.export_pages)."""
    encoder = msgspec.json.Encoder()
    async for events in export_pages(pool, only, page):
        yield encoder.encode_lines(events)


async def write(pool: asyncpg.Pool, output: BinaryIO, only: ExportFilter | None = None) -> int:
    """Write the export to a binary file; return the number of events written."""
    count = 0
    async for chunk in export(pool, only):
        await asyncio.to_thread(output.write, chunk)
        count += chunk.count(b"\n")
    return count


async def export_command(
    pool: asyncpg.Pool, output: Path | None, only: ExportFilter | None = None
) -> int:
    """`tracker audit export [--output FILE]`: the log to a file, or to standard output."""
    if output is None:
        count = await write(pool, sys.stdout.buffer, only)
        sys.stdout.buffer.flush()
    else:
        file = await asyncio.to_thread(output.open, "wb")
        try:
            count = await write(pool, file, only)
        finally:
            await asyncio.to_thread(file.close)
    print(f"exported {count:,} events", file=sys.stderr)
    return 0
