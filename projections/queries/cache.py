"""Rendered views, reused while nothing they depend on has changed.

A view is a function of the projections' rows and of the moment it is evaluated at. An entry is
served only while the live projections stand exactly where they stood when it was computed
(checked against the database on every read) and the moment has not crossed the first instant
at which the view's answer would change (a forum's midnight, a finished commitment leaving the
window). A hit is therefore the answer the view would compute now, not an approximation.
"""

from __future__ import annotations

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
    state: list[str] | None
    since: datetime
    fresh: Fresh[Any]


class ViewCache:
    """Computed views of the live projections, by key, up to max_bytes, least recently used out."""

    def __init__(self, pool: asyncpg.Pool, max_bytes: int = 32 * 2**20) -> None:
        self.pool = pool
        self.max_bytes = max_bytes
        self._entries: dict[Hashable, _Entry] = {}
        self._bytes = 0

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
        state = await self.pool.fetchval(STATE, reads)
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.fresh.size
            changes_at = entry.fresh.changes_at
            if (
                entry.state == state
                and entry.since <= moment
                and (changes_at is None or moment < changes_at)
            ):
                self._keep(key, entry)  # back in as the most recently used
                value: T = entry.fresh.value
                return value
        fresh = await compute()
        if fresh is not None:
            self._keep(key, _Entry(state, moment, fresh))
        return None if fresh is None else fresh.value

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        if entry.fresh.size > self.max_bytes:
            return
        self._entries[key] = entry
        self._bytes += entry.fresh.size
        while self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._bytes -= self._entries.pop(oldest).fresh.size
