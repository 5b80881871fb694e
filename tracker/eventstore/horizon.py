"""Who holds the log back: the oldest transaction still open anywhere on the server."""

from __future__ import annotations

import asyncpg
import msgspec

from tracker.database import Connection

# Readers stop at the oldest transaction still running on the server (any database); it holds
# the log back only if committed events wait above it. pg_stat_activity shows other users'
# sessions' transaction ids only to a superuser or a member of pg_read_all_stats.
BLOCKER = """
SELECT a.pid, a.application_name, a.datname, a.state, a.backend_xid::text AS xid,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS age
FROM pg_stat_activity a
WHERE a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()
  AND a.xact_start < clock_timestamp() - $1 * interval '1 second'
  AND EXISTS (SELECT FROM events
              WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot()))
ORDER BY age(a.backend_xid) DESC
LIMIT 1
"""


class HeldBackBy(msgspec.Struct, frozen=True, kw_only=True):
    """The backend whose open transaction keeps newer events from the views."""

    pid: int
    application_name: str
    database: str | None
    state: str | None
    transaction_age_seconds: float
    transaction_id: str


async def held_back_by(db: asyncpg.Pool | Connection, threshold: float) -> HeldBackBy | None:
    """The oldest open transaction, if it has held committed events back over threshold s."""
    row = await db.fetchrow(BLOCKER, threshold)
    if row is None:
        return None
    return HeldBackBy(
        pid=row["pid"],
        application_name=row["application_name"] or "",
        database=row["datname"],
        state=row["state"],
        transaction_age_seconds=round(row["age"], 1),
        transaction_id=row["xid"],
    )
