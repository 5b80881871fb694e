"""governance_views_v4 built from scratch: the governance fold over the whole log in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import chain

from projections.bulk import BulkFold
from projections.bulk_rows import CompactRows
from projections.governance_fold import GovernanceFold
from projections.governance_history import KEYS, record
from projections.history import History
from tracker.database import Connection
from tracker.eventstore import RecordedEvent


class GovernanceBulk(BulkFold):
    """Purposes, agreements, meetings and attendance in memory; decisions written page by page."""

    streams = ("purpose", "agreement", "meeting")

    def __init__(self) -> None:
        super().__init__()
        self.fold = GovernanceFold(
            meetings=CompactRows(("forum_id", "location"), key="meeting_id"),
            attendance=CompactRows(("leader_id", "presence")),
        )
        self.history = History(KEYS, live=False)

    async def prepare(self, conn: Connection, schema: str) -> None:
        await super().prepare(conn, schema)
        self.history.shapes = self.history_shapes(KEYS)

    def apply(self, event: RecordedEvent) -> None:
        record(self.fold, event, self.history)

    def take(self) -> Callable[[Connection], Awaitable[None]] | None:
        # The endorsements left are all the live path keeps after its deletes; every row is
        # written at the end anyway.
        self.fold.withdrawn.clear()
        self.fold.dirty.clear()
        # Each past version of a row is written once the next one has closed it.
        past = {table: self.history.take(table) for table in KEYS}
        if not self.fold.decisions and not any(past.values()):
            return None
        decisions = self.table["meeting_decisions"]
        records = [decisions.record(row) for row in self.fold.decisions]
        self.fold.decisions.clear()

        async def write(conn: Connection) -> None:
            await decisions.copy_records(conn, records)
            for table, rows in past.items():
                await self.table[f"{table}_history"].copy_records(conn, rows)

        return write

    async def write(self, conn: Connection) -> None:
        fold, table = self.fold, self.table
        await table["purposes"].copy(conn, fold.purposes.values())
        await table["purpose_endorsements"].copy(conn, fold.endorsements.values())
        await table["agreements"].copy(conn, fold.agreements.values())
        await table["meetings"].copy(conn, fold.meetings.values())
        await table["meeting_attendance"].copy(conn, fold.attendance.values())
        for name in KEYS:
            rows = chain(self.history.take(name), self.history.current(name))
            await table[f"{name}_history"].copy_records(conn, rows)
