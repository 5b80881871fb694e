"""Leadership of each projection: a lease on the database's clock that a live leader renews."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from tracker.database import Connection

log = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[asyncpg.Connection]]

# Whether someone else holds a live lease; read first so that a standby never queues behind a
# live leader's batch for the row lock below.
TAKEN = """
SELECT EXISTS (SELECT FROM projection_leases
               WHERE name = $1 AND holder <> $2 AND expires_at > clock_timestamp())
"""
# FOR UPDATE waits for any batch still holding the row (FOR KEY SHARE, see FENCE): a frozen
# leader's open batch ends (idle_in_transaction_session_timeout) before its lease changes hands.
LOCK = """
SELECT holder = $2 OR expires_at <= clock_timestamp() FROM projection_leases
WHERE name = $1 FOR UPDATE
"""
TAKE = """
INSERT INTO projection_leases AS l (name, holder, expires_at)
VALUES ($1, $2, clock_timestamp() + $3 * interval '1 second')
ON CONFLICT (name) DO UPDATE
SET holder = excluded.holder, expires_at = excluded.expires_at,
    taken_at = CASE WHEN l.holder = excluded.holder THEN l.taken_at ELSE clock_timestamp() END,
    retry_error = CASE WHEN l.holder = excluded.holder THEN l.retry_error END,
    retrying_since = CASE WHEN l.holder = excluded.holder THEN l.retrying_since END
WHERE l.holder = excluded.holder OR l.expires_at <= clock_timestamp()
RETURNING true
"""
# A plain UPDATE (FOR NO KEY UPDATE) does not wait for the batches' FOR KEY SHARE.
RENEW = """
UPDATE projection_leases SET expires_at = clock_timestamp() + $3 * interval '1 second'
WHERE name = ANY($1::text[]) AND holder = $2
RETURNING name
"""
RELEASE = """
UPDATE projection_leases SET expires_at = clock_timestamp()
WHERE name = ANY($1::text[]) AND holder = $2
"""
FENCE = """
SELECT FROM projection_leases
WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()
FOR KEY SHARE
"""
RETRYING = """
UPDATE projection_leases SET retry_error = $3,
    retrying_since = coalesce(retrying_since, clock_timestamp())
WHERE name = $1 AND holder = $2
"""
RECOVERED = """
UPDATE projection_leases SET retry_error = NULL, retrying_since = NULL
WHERE name = $1 AND holder = $2
"""
# A frozen leader's batch is ended by the server after this long idle inside its transaction.
IDLE_LIMIT = "SELECT set_config('idle_in_transaction_session_timeout', $1, true)"


# What a best-effort write may meet when the database is the thing that fails.
UNREACHABLE = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class LostLease(Exception):
    """This process no longer holds the projection's lease: it must not write."""


def holder_name() -> str:
    """Who holds a lease: the host, the process and a random part for each runner."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """The leases one runner holds, kept on a connection of their own."""

    def __init__(self, lease_seconds: float = 3.0, renew_seconds: float = 1.0) -> None:
        self.holder = holder_name()
        self.lease_seconds = lease_seconds
        # Renewing at least twice per lease lets one renewal go astray.
        self.renew_seconds = min(renew_seconds, lease_seconds / 2)
        self.held: set[str] = set()

    async def fence(self, conn: Connection, name: str) -> None:
        """In a batch's transaction: hold the lease row until commit, or raise LostLease."""
        if await conn.fetchrow(FENCE, name, self.holder) is None:
            self.drop(name)
            raise LostLease(name)

    async def limit_idling(self, conn: Connection) -> None:
        """In a batch's transaction: the server ends it if it idles as long as a lease."""
        await conn.execute(IDLE_LIMIT, str(round(self.lease_seconds * 1000)))

    def drop(self, name: str) -> None:
        """Stop leading a projection whose lease went to another process."""
        if name in self.held:
            self.held.discard(name)
            log.warning("lost the lease of projection %s; standing by", name)

    async def keep(self, stop: asyncio.Event, connect: Connect, names: Sequence[str]) -> None:
        """Until stop: renew the leases held and take up those nobody renews; release at stop."""
        conn: asyncpg.Connection | None = None
        try:
            while not stop.is_set():
                try:
                    if conn is None or conn.is_closed():
                        conn = await connect()
                    await self.renew_and_take(conn, names)
                except Exception:
                    log.warning("projection leases: lost the database; retrying", exc_info=True)
                    if conn is not None:
                        conn.terminate()
                    conn = None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.renew_seconds):
                        await stop.wait()
        finally:
            await self._release(conn)

    async def renew_and_take(self, conn: asyncpg.Connection, names: Sequence[str]) -> None:
        """One round: renew the leases held (dropping those lost), take up lapsed ones."""
        if self.held:
            renewed = await conn.fetch(RENEW, list(self.held), self.holder, self.lease_seconds)
            for name in self.held - {r[0] for r in renewed}:
                self.drop(name)
        for name in names:
            if name not in self.held and await self._take(conn, name):
                log.info("leading projection %s", name)
                self.held.add(name)

    async def _take(self, conn: asyncpg.Connection, name: str) -> bool:
        """Take the lease if nobody holds it live; never wait long for a frozen leader's batch."""
        if await conn.fetchval(TAKEN, name, self.holder):
            return False
        try:
            async with conn.transaction():
                lock_ms = str(round(self.renew_seconds * 1000))
                await conn.execute("SELECT set_config('lock_timeout', $1, true)", lock_ms)
                if await conn.fetchval(LOCK, name, self.holder) is False:
                    return False
                return bool(await conn.fetchval(TAKE, name, self.holder, self.lease_seconds))
        except asyncpg.LockNotAvailableError:
            return False  # the old leader's batch is still open: next round

    async def _release(self, conn: asyncpg.Connection | None) -> None:
        """Let a standby take over at once rather than wait out the lease."""
        if conn is None or conn.is_closed():
            return
        try:
            if self.held:
                await asyncio.wait_for(conn.execute(RELEASE, list(self.held), self.holder), 2)
            self.held.clear()
        except UNREACHABLE:
            pass  # the leases run out on their own
        finally:
            conn.terminate()

    async def retrying(self, pool: asyncpg.Pool, name: str, error: BaseException) -> None:
        """Show the projection as retrying, with the error (best effort: the database may be
        the thing that is failing)."""
        message = f"{type(error).__name__}: {error}"[:2000]
        with contextlib.suppress(*UNREACHABLE):
            await asyncio.wait_for(pool.execute(RETRYING, name, self.holder, message), 2)

    async def recovered(self, pool: asyncpg.Pool, name: str) -> None:
        """Clear the retrying note after a batch went through."""
        with contextlib.suppress(*UNREACHABLE):
            await asyncio.wait_for(pool.execute(RECOVERED, name, self.holder), 2)
