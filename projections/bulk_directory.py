"""directory_v2 built from scratch: the directory fold over the whole log in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from projections.bulk import BulkFold
from projections.directory_fold import DirectoryFold
from projections.directory_history import KEYS, record
from projections.history import History
from tracker.database import Connection
from tracker.eventstore import RecordedEvent


class DirectoryBulk(BulkFold):
    """Organisations, leaders, forums and memberships in memory; every table written at the end."""

    streams = ("organisation", "leader", "forum")

    def __init__(self) -> None:
        super().__init__()
        self.fold = DirectoryFold()
        self.history = History(KEYS, live=False)

    def apply(self, event: RecordedEvent) -> None:
        record(self.fold, event, self.history)

    def take(self) -> Callable[[Connection], Awaitable[None]] | None:
        # Departures are already gone from the members kept; every row is written at the end.
        self.fold.left.clear()
        self.fold.dirty.clear()
        # Each past version of a row is written once the next one has closed it.
        past = {table: self.history.take(table) for table in KEYS}
        if not any(past.values()):
            return None

        async def write(conn: Connection) -> None:
            for table, rows in past.items():
                await self.table[f"{table}_history"].copy(conn, rows)

        return write

    async def write(self, conn: Connection) -> None:
        fold, table = self.fold, self.table
        await table["directory_organisations"].copy(conn, fold.organisations.values())
        await table["directory_leaders"].copy(conn, fold.leaders.values())
        await table["directory_forums"].copy(conn, fold.forums.values())
        await table["directory_members"].copy(conn, fold.members.values())
        for name in KEYS:
            rows = [*self.history.take(name), *self.history.current(name)]
            await table[f"{name}_history"].copy(conn, rows)
