"""governance_views_v3 built from scratch: the governance fold over the whole log in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from projections.bulk import BulkFold
from projections.bulk_rows import CompactRows
from projections.governance_fold import GovernanceFold
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

    def apply(self, event: RecordedEvent) -> None:
        self.fold.apply(event)

    def take(self) -> Callable[[Connection], Awaitable[None]] | None:
        # The endorsements left are all the live path keeps after its deletes; every row is
        # written at the end anyway.
        self.fold.withdrawn.clear()
        self.fold.dirty.clear()
        if not self.fold.decisions:
            return None
        decisions = self.table["meeting_decisions"]
        records = [decisions.record(row) for row in self.fold.decisions]
        self.fold.decisions.clear()
        return lambda conn: decisions.copy_records(conn, records)

    async def write(self, conn: Connection) -> None:
        fold, table = self.fold, self.table
        await table["purposes"].copy(conn, fold.purposes.values())
        await table["purpose_endorsements"].copy(conn, fold.endorsements.values())
        await table["agreements"].copy(conn, fold.agreements.values())
        await table["meetings"].copy(conn, fold.meetings.values())
        await table["meeting_attendance"].copy(conn, fold.attendance.values())
