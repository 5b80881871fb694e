"""The bulk scan: only the columns folds read, of some stream types, up to a checkpoint."""

from __future__ import annotations

from collections.abc import Sequence

from asyncpg.cursor import Cursor

from tracker.database import Connection
from tracker.eventstore.envelope import Checkpoint
from tracker.eventstore.log import Executor

# Only the columns folds read, in this order: position, stream_id, stream_type, version, type,
# payload, occurred_at, actor. The payload comes as text, decoded with one call per row rather
# than through a per-value codec; the stream id as text too, the form folds key their rows by.
FOLDED = """position, stream_id::text, stream_type, version, type, payload::text, occurred_at,
actor, transaction_id::text::bigint"""
COUNT = """
SELECT count(*) FROM events
WHERE (transaction_id, position) <= ($1::xid8, $2) AND stream_type = ANY($3::text[])
"""
SCAN = f"""
SELECT {FOLDED} FROM events
WHERE (transaction_id, position) <= ($1::xid8, $2) AND stream_type = ANY($3::text[])
ORDER BY transaction_id, position
"""


async def count_up_to(db: Executor, end: Checkpoint, stream_types: Sequence[str]) -> int:
    """How many events of these stream types lie at or before end."""
    return int(await db.fetchval(COUNT, end.transaction_id, end.position, list(stream_types)))


async def folded_cursor(conn: Connection, end: Checkpoint, stream_types: Sequence[str]) -> Cursor:
    """A cursor over FOLDED rows up to end in global order, in conn's open transaction."""
    return await conn.cursor(SCAN, end.transaction_id, end.position, list(stream_types))
