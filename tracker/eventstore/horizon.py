"""The transaction horizon: which open transaction holds the readable log back, and how much."""

from __future__ import annotations

import msgspec

from tracker.eventstore.log import Executor

# Transaction ids are shared by every database of the server, so a transaction in another
# database holds this log back too. Only transactions that were given an id (they wrote) hold
# the snapshot's xmin; the oldest of them by id is the one the horizon waits for. Without the
# pg_read_all_stats role, other users' rows show no xid, and the blocker cannot be named.
BLOCKER = """
SELECT pid, coalesce(datname, '') AS database, coalesce(usename, '') AS user_name,
       coalesce(application_name, '') AS application, coalesce(state, '') AS state,
       greatest(extract(epoch FROM clock_timestamp() - xact_start), 0)::float8 AS age_seconds,
       left(coalesce(query, ''), 200) AS query, backend_xid::text AS transaction_id
FROM pg_stat_activity
WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
ORDER BY age(backend_xid) DESC
LIMIT 1
"""
BOUNDS = "SELECT pg_snapshot_xmin(s), pg_snapshot_xmax(s) FROM pg_current_snapshot() s"
# Committed events that readers may not pass yet: written by transactions at or above the
# oldest one still open (and below the next id, which bounds what is committed). Given as a
# range of values the planner reads the index; as an open-ended comparison on xid8, for which
# it keeps no statistics, it scanned the whole table (0.1 ms against 30 ms at 100,000 events).
HELD_BACK = "SELECT count(*) FROM events WHERE transaction_id >= $1::xid8 AND transaction_id < $2"


class Blocker(msgspec.Struct, frozen=True, kw_only=True):
    """The oldest open transaction that was given an id: the horizon stops below it."""

    pid: int
    database: str
    user_name: str
    application: str
    state: str
    age_seconds: float
    query: str
    transaction_id: str


class Horizon(msgspec.Struct, frozen=True, kw_only=True):
    """How far the readable log trails what is committed, and who it waits for."""

    held_back: int
    blocker: Blocker | None

    @property
    def age_seconds(self) -> float:
        """How long the horizon has waited for its blocker (0 with none)."""
        return 0.0 if self.blocker is None else self.blocker.age_seconds


async def horizon(db: Executor) -> Horizon:
    """The horizon now: the events it holds back and the transaction it waits for."""
    row = await db.fetchrow(BLOCKER)
    xmin, xmax = await db.fetchrow(BOUNDS) or (0, 0)
    held_back = int(await db.fetchval(HELD_BACK, xmin, xmax))
    return Horizon(held_back=held_back, blocker=None if row is None else Blocker(**dict(row)))


class HeldBackBy(msgspec.Struct, frozen=True, kw_only=True):
    """The backend whose open transaction keeps newer events from the views."""

    pid: int
    application_name: str
    database: str | None
    state: str | None
    transaction_age_seconds: float
    transaction_id: str


async def held_back_by(db: Executor, threshold: float) -> HeldBackBy | None:
    """The oldest open transaction, if it has held committed events back over threshold s."""
    found = await horizon(db)
    blocker = found.blocker
    if blocker is None or found.held_back == 0 or blocker.age_seconds < threshold:
        return None
    return HeldBackBy(
        pid=blocker.pid,
        application_name=blocker.application,
        database=blocker.database or None,
        state=blocker.state or None,
        transaction_age_seconds=round(blocker.age_seconds, 1),
        transaction_id=blocker.transaction_id,
    )
