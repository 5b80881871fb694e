"""The stored Merkle leaves, compared page by page with the leaves recomputed from the log."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any
from uuid import UUID

import msgspec

from tracker.audit.chains import named
from tracker.audit.findings import Finding, Report
from tracker.eventstore import CopiedEvent

PAGE = 10_000  # stored leaves compared per query
LEAF_PAGE = """
SELECT coalesce(string_agg(leaf_hash, ''::bytea ORDER BY leaf_index), ''::bytea)
FROM merkle_leaves WHERE leaf_index >= $1 AND leaf_index < $2
"""
LEAF_POSITION = "SELECT position FROM merkle_leaves WHERE leaf_index = $1"
BEYOND = """
SELECT (SELECT count(*) FROM merkle_leaves), count(*), min(leaf_index),
       (array_agg(position ORDER BY leaf_index))[1]
FROM merkle_leaves WHERE leaf_index >= $1
"""


class StoredLeaves:
    """The stored leaves, a page of hashes per query on a second connection, compared with the
    leaves recomputed from the log; the next page is fetched while this one is compared."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._start = 0  # leaf index of the first pending leaf
        self._pending: list[bytes] = []
        self._events: list[CopiedEvent] = []
        self._next: asyncio.Future[bytes] | None = None
        self.ended = False
        self.first: Finding | None = None
        self.mismatches = 0

    def _fetch(self, start: int) -> asyncio.Future[bytes]:
        page: Coroutine[Any, Any, bytes] = self._conn.fetchval(LEAF_PAGE, start, start + PAGE)
        return asyncio.ensure_future(page)

    async def extend(self, leaves: list[bytes], events: list[CopiedEvent]) -> None:
        """Queue recomputed leaves; compare each page as it fills."""
        self._pending += leaves
        self._events += events
        while len(self._pending) >= PAGE:
            await self.compare(PAGE)

    async def compare(self, count: int | None = None) -> None:
        """Compare the next count pending leaves (all by default) with the stored ones."""
        count = len(self._pending) if count is None else count
        if count and not self.ended:
            stored = await (self._next or self._fetch(self._start))
            self._next = None
            if stored != b"".join(self._pending[:count]):
                await self._locate(stored)
            self._start += count
            self.ended = len(stored) < 32 * count
            if not self.ended:
                self._next = self._fetch(self._start)
        del self._pending[:count], self._events[:count]

    async def _locate(self, stored: bytes) -> None:
        start = self._start
        for i, leaf in enumerate(self._pending[: len(stored) // 32]):
            if stored[32 * i : 32 * i + 32] != leaf:
                self.mismatches += 1
                if self.first is None:
                    self.first = await self._finding(start + i, self._events[i])

    async def _finding(self, index: int, event: CopiedEvent) -> Finding:
        sealed_for = await self._conn.fetchval(LEAF_POSITION, index)
        what = (
            f"was sealed for position {sealed_for}"
            if sealed_for != event.position
            else "was sealed with another hash"
        )
        return Finding(
            kind="leaf",
            message=f"leaf {index}: the log has {named(event)} here, but the leaf {what}",
            stream_id=UUID(event.stream_id),
            version=event.version,
            position=event.position,
        )

    async def finish(self, count: int, report: Report) -> None:
        """Compare the rest, then report the first mismatch and any leaves past the log."""
        await self.compare()
        if self._next is not None:
            await self._next  # a page past the end: cheap, and the connection must be idle
        if self.first is not None:
            more = self.mismatches - 1
            extra = f" ({more:,} more leaves differ)" if more else ""
            report.add(msgspec.structs.replace(self.first, message=self.first.message + extra))
        total, beyond, first_index, first_position = await self._conn.fetchrow(BEYOND, count)
        report.leaves = total
        if beyond:
            report.add(
                Finding(
                    kind="leaf",
                    message=f"{beyond:,} sealed leaves (from leaf {first_index}, position "
                    f"{first_position}) have no event in the log: events were removed",
                    position=first_position,
                )
            )
