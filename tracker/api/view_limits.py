"""Bounds on the expensive reads: a time limit on each view, and each token's share of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from tracker.api.problems import Refused, problem
from tracker.database import Connection
from tracker.settings import Settings

# Seconds a client is told to wait before it asks again: long enough for a slow view ahead of it
# to have moved on, short enough not to matter to a person.
RETRY_AFTER = 5
# A token over its share of live reads only has to wait for one of its own to finish.
RETRY_LIVE = 1


class ViewLimits(msgspec.Struct, frozen=True, kw_only=True):
    """How long a view read may take or wait, and how many a token may have under way."""

    view_timeout: float = 10.0
    as_of_wait: float = 5.0
    reads_per_token: int = 16

    @classmethod
    def of(cls, settings: Settings) -> ViewLimits:
        """The limits a process runs with."""
        return cls(
            view_timeout=settings.view_timeout_seconds,
            as_of_wait=settings.as_of_wait_seconds,
            reads_per_token=settings.view_reads_per_token,
        )


class InFlight:
    """How many requests of one kind each token has under way in this process, up to a limit."""

    def __init__(self, limit: int, what: str, retry_after: int) -> None:
        self.limit, self.what, self.retry_after = limit, what, retry_after
        self._counts: dict[UUID, int] = {}

    def under_way(self, token: UUID) -> int:
        """The token's requests of this kind now under way."""
        return self._counts.get(token, 0)

    @contextmanager
    def admitted(self, token: UUID) -> Iterator[None]:
        """Count one more request for the token while it runs, or refuse it with 429."""
        count = self._counts.get(token, 0)
        if count >= self.limit:
            raise Refused(
                problem(
                    429,
                    "too-many-requests",
                    "Too many requests",
                    f"this token already has {count} {self.what} under way; retry when one ends",
                ),
                headers={"Retry-After": str(self.retry_after)},
            )
        self._counts[token] = count + 1
        try:
            yield
        finally:
            if self._counts[token] == 1:
                del self._counts[token]
            else:
                self._counts[token] -= 1


class Admissions:
    """A process's counts of view reads, per token."""

    def __init__(self, limits: ViewLimits) -> None:
        self.limits = limits
        self.live = InFlight(limits.reads_per_token, "view reads", RETRY_LIVE)


def view_timeout(seconds: float) -> Refused:
    """503 for a view read or replay that ran out of time and was cancelled."""
    return Refused(
        problem(
            503,
            "view-timeout",
            "View took too long",
            f"the view was not computed within {seconds:g} s and was cancelled; retry later",
        ),
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def behind(seconds: float) -> Refused:
    """503 for an as_of among the newest events that the views had not reached in time."""
    return Refused(
        problem(
            503,
            "behind",
            "Views behind",
            f"the views had not reached as_of within {seconds:g} s; retry later",
        ),
        headers={"Retry-After": str(RETRY_AFTER)},
    )


class TimedPool:
    """The part of asyncpg.Pool the view queries use, each query cancelled after timeout."""

    # asyncpg cancels the query on the server when its timeout passes, and the pool waits for
    # that before it hands the connection out again; a view cached for other readers runs in a
    # task of its own, which an outer deadline would not cancel.

    def __init__(self, db: asyncpg.Pool | Connection, timeout: float) -> None:
        self.db, self.timeout = db, timeout

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """As Pool.fetch."""
        return await self.db.fetch(query, *args, timeout=self.timeout)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """As Pool.fetchrow."""
        return await self.db.fetchrow(query, *args, timeout=self.timeout)

    async def fetchval(self, query: str, *args: Any) -> Any:
        """As Pool.fetchval."""
        return await self.db.fetchval(query, *args, timeout=self.timeout)

    async def execute(self, query: str, *args: Any) -> str:
        """As Pool.execute."""
        return await self.db.execute(query, *args, timeout=self.timeout)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[TimedPool]:
        """As Pool.acquire, its connection's queries timed alike."""
        if isinstance(self.db, asyncpg.Pool):
            async with self.db.acquire() as conn:
                yield TimedPool(conn, self.timeout)
        else:
            yield self
