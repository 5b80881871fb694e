"""Rendered views, reused while nothing they depend on has changed.

A view is a function of the projections' rows and of the moment it is evaluated at. An entry is
served only while the live projections stand exactly where they stood when it was computed
(checked against the database on every read) and the moment has not crossed the first instant
at which the view's answer would change (a forum's midnight, a finished commitment leaving the
window). A hit is therefore the answer the view would compute now, not an approximation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
import msgspec

T = TypeVar("T")

# The live generation and checkpoint of the projections a view reads. A batch writes its rows
# and its checkpoint in one transaction and a rebuild switches generations, so equal answers
# mean equal rows.
STATE = """
SELECT array_agg(p.name || ':' || g.generation || ':' || g.position ORDER BY p.name)
FROM projections p
JOIN projection_generations g ON g.name = p.name AND g.generation = p.live_generation
WHERE p.name = ANY($1::text[])
"""


class Fresh(msgspec.Struct, Generic[T], frozen=True):
    """A view just computed, and the first moment its answer may change (None: never by time)."""

    value: T
    size: int
    changes_at: datetime | None


class _Entry(msgspec.Struct, frozen=True):
    state: tuple[str, ...]
    since: datetime
    fresh: Fresh[Any] | None  # None: the view found nothing

    def holds(self, state: tuple[str, ...], moment: datetime) -> bool:
        """Whether this answer is the one the view would give at this state and moment."""
        changes_at = None if self.fresh is None else self.fresh.changes_at
        return (
            self.state == state
            and self.since <= moment
            and (changes_at is None or moment < changes_at)
        )


class ViewCache:
    """Computed views of the live projections, by key, up to max_bytes, least recently used out."""

    def __init__(self, pool: asyncpg.Pool, max_bytes: int = 32 * 2**20) -> None:
        self.pool = pool
        self.max_bytes = max_bytes
        self._entries: dict[Hashable, _Entry] = {}
        self._bytes = 0
        # Computations under way, by key and state: requests that miss together wait for one.
        self._computing: dict[tuple[Hashable, tuple[str, ...]], asyncio.Task[_Entry]] = {}

    async def view(
        self,
        key: Hashable,
        moment: datetime,
        compute: Callable[[], Awaitable[Fresh[T] | None]],
        reads: Sequence[str],
    ) -> T | None:
        """The view for key at moment, computed again unless the one kept still holds.

        reads names the projections the view reads; None from compute (not found) is not kept.
        """
        # Read before computing: the view's own reads come later, so they are at least this new,
        # and an entry stored under this state is never older than the state it claims.
        state = tuple(await self.pool.fetchval(STATE, reads) or ())
        entry = self._entries.get(key)
        if entry is not None and entry.holds(state, moment):
            self._entries[key] = self._entries.pop(key)  # now the most recently used
        else:
            under_way = self._computing.get((key, state))
            entry = None if under_way is None else await asyncio.shield(under_way)
            if entry is None or not entry.holds(state, moment):
                entry = await self._compute(key, state, moment, compute)
        value: T | None = None if entry.fresh is None else entry.fresh.value
        return value

    async def _compute(
        self,
        key: Hashable,
        state: tuple[str, ...],
        moment: datetime,
        compute: Callable[[], Awaitable[Fresh[Any] | None]],
    ) -> _Entry:
        async def run() -> _Entry:
            entry = _Entry(state, moment, await compute())
            if entry.fresh is not None:
                self._keep(key, entry)
            return entry

        # A task of its own, so that a caller who goes away does not cancel it for the others.
        task = asyncio.ensure_future(run())
        self._computing[(key, state)] = task

        def done(task: asyncio.Task[_Entry]) -> None:
            if self._computing.get((key, state)) is task:
                del self._computing[(key, state)]
            if not task.cancelled():
                task.exception()  # its callers have it; nobody else needs to be told

        task.add_done_callback(done)
        return await asyncio.shield(task)

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        assert entry.fresh is not None
        if (old := self._entries.pop(key, None)) is not None:
            self._bytes -= _size(old)
        if entry.fresh.size > self.max_bytes:
            return
        self._entries[key] = entry
        self._bytes += entry.fresh.size
        while self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._bytes -= _size(self._entries.pop(oldest))


def _size(entry: _Entry) -> int:
    return 0 if entry.fresh is None else entry.fresh.size
