"""Is this process fit to take traffic: the database reachable and writable, its migrations
current, and the views close enough behind the log?"""

from __future__ import annotations

from collections.abc import Collection

import asyncpg
import msgspec

from projections.lag import oldest_unapplied
from tracker.database import Connection
from tracker.migrate import MigrationState, migration_state

# Every check, in the order a report lists them.
CHECKS = ("database", "writable", "migrations", "projections")
# Longest a probe waits for a connection, and for each of its statements.
TIMEOUT_SECONDS = 2.0
# A committed write: a read-only database, a full disk or a failing WAL all refuse it.
HEARTBEAT = """
INSERT INTO health_heartbeat (id, beat_at) VALUES (1, now())
ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at
"""
# Errors that mean the database, not one statement, is out of reach.
UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)


class Check(msgspec.Struct, frozen=True, omit_defaults=True):
    """One check: ok or not, a short public reason, and the database's own words."""

    ok: bool
    reason: str | None = None
    error: str | None = None


class Readiness(msgspec.Struct, frozen=True):
    """Every check's outcome, and the migrations when the database answered."""

    checks: dict[str, Check]
    migrations: MigrationState | None = None

    @property
    def failed(self) -> list[str]:
        """The names of the checks that failed, in report order."""
        return [name for name, check in self.checks.items() if not check.ok]


async def readiness(
    pool: asyncpg.Pool,
    max_lag_seconds: float,
    projections: Collection[str],
    refused: tuple[float, str] | None = None,
) -> Readiness:
    """Run every check; one that cannot run says why it was not checked.

    refused: seconds since a request's write was last refused, and its SQLSTATE, if lately.
    """
    try:
        async with pool.acquire(timeout=TIMEOUT_SECONDS) as conn:
            return await _checks(conn, max_lag_seconds, projections, refused)
    except UNREACHABLE as error:
        return _unreachable(error)
    except asyncpg.PostgresError as error:  # refused at connection: no such database, too many
        return _unreachable(error)


async def _checks(
    conn: Connection,
    max_lag_seconds: float,
    projections: Collection[str],
    refused: tuple[float, str] | None,
) -> Readiness:
    """The checks on one connection: reads in one transaction, then the write in another."""
    async with conn.transaction(readonly=True):
        await conn.execute(f"SET LOCAL statement_timeout = {int(TIMEOUT_SECONDS * 1000)}")
        state = await migration_state(conn)
        lag = await _projections(conn, max_lag_seconds, projections)
    pending = len(state.pending)
    migrations = (
        Check(False, f"{pending} migration{'s' * (pending > 1)} not applied")
        if pending
        else Check(True)
    )
    checks = {
        "database": Check(True),
        "writable": await _writable(conn, refused),
        "migrations": migrations,
        "projections": lag,
    }
    return Readiness(checks, state)


async def _writable(conn: Connection, refused: tuple[float, str] | None) -> Check:
    """Commit the heartbeat, and look back at requests' writes; a refusal names its SQLSTATE."""
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL statement_timeout = {int(TIMEOUT_SECONDS * 1000)}")
            await conn.execute(HEARTBEAT)
    except asyncpg.UndefinedTableError as error:
        return Check(
            False, "not checked: the heartbeat table's migration is not applied", str(error)
        )
    except asyncpg.ReadOnlySQLTransactionError as error:
        return Check(
            False, f"the database refuses writes: read-only (SQLSTATE {error.sqlstate})", str(error)
        )
    except asyncpg.PostgresError as error:
        if isinstance(error, UNREACHABLE):
            raise
        return Check(False, f"the database refused a write (SQLSTATE {error.sqlstate})", str(error))
    if refused is not None:
        seconds, state = refused
        return Check(False, f"a request's write was refused {seconds:.1f} s ago (SQLSTATE {state})")
    return Check(True)


async def _projections(
    conn: Connection, max_lag_seconds: float, projections: Collection[str]
) -> Check:
    """How long ago the oldest event a live projection has not applied was recorded."""
    if not max_lag_seconds:
        return Check(True, "not checked: TRACKER_READY_MAX_LAG_SECONDS is 0")
    # The database's clock, which stamped recorded_at.
    moment = await conn.fetchval("SELECT now()")
    behind = {
        name: (moment - oldest).total_seconds()
        for name, oldest in (await oldest_unapplied(conn, projections)).items()
        if oldest is not None
    }
    over = {name: seconds for name, seconds in behind.items() if seconds > max_lag_seconds}
    if not over:
        return Check(True)
    worst = max(over, key=over.__getitem__)
    return Check(
        False,
        f"{worst} is {over[worst]:.1f} s behind the log (limit {max_lag_seconds:g} s)"
        + (f", and {len(over) - 1} more" if len(over) > 1 else ""),
    )


def _unreachable(error: Exception) -> Readiness:
    """The database check failed; nothing else could be checked."""
    skipped = Check(False, "not checked: the database is unreachable")
    reason = f"unreachable ({type(error).__name__})"
    checks = {"database": Check(False, reason, f"{type(error).__name__}: {error}")}
    return Readiness(checks | {name: skipped for name in CHECKS[1:]})
