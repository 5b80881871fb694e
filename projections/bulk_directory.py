"""directory_v1 built from scratch: the directory fold over the whole log in memory."""

from __future__ import annotations

from projections.bulk import BulkFold
from projections.directory_fold import DirectoryFold
from tracker.database import Connection
from tracker.eventstore import RecordedEvent


class DirectoryBulk(BulkFold):
    """Organisations, leaders, forums and memberships in memory; every table written at the end."""

    streams = ("organisation", "leader", "forum")

    def __init__(self) -> None:
        super().__init__()
        self.fold = DirectoryFold()

    def apply(self, event: RecordedEvent) -> None:
        self.fold.apply(event)

    def take(self) -> None:
        # Departures are already gone from the members kept; every row is written at the end.
        self.fold.left.clear()
        self.fold.dirty.clear()

    async def write(self, conn: Connection) -> None:
        fold, table = self.fold, self.table
        await table["directory_organisations"].copy(conn, fold.organisations.values())
        await table["directory_leaders"].copy(conn, fold.leaders.values())
        await table["directory_forums"].copy(conn, fold.forums.values())
        await table["directory_members"].copy(conn, fold.members.values())
