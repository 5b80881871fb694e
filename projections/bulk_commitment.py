"""commitment_views_v6 built from scratch: the commitment fold over the whole log in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from itertools import chain
from typing import ClassVar

from projections.bulk import BulkFold
from projections.bulk_rows import CompactRows
from projections.commitment_fold import CHANGE_COLUMNS, CommitmentFold, Row, render_item
from projections.commitment_history import KEYS, record
from projections.history import History
from projections.purpose_links import LINK_ALL, LINK_HISTORY_ALL
from tracker.database import Connection
from tracker.eventstore import RecordedEvent

# Columns whose values repeat across commitments: forums, leaders, dates, stock wording.
SHARED = (
    "forum_id",
    "owner_id",
    "requester_id",
    "made_by",
    "description",
    "made_on",
    "due_on",
    "original_due_on",
    "meeting_id",
)


class _Fold(CommitmentFold):
    """The commitment fold, keeping each change as the COPY record it becomes."""

    def changed(self, event: RecordedEvent, row: Row) -> None:
        due = row["due_on"]
        self.changes.append(
            (
                event.stream_id,
                event.version,
                event.position,
                event.type,
                event.actor,
                event.occurred_at,
                row["status"],
                None if due is None else date.fromisoformat(due),
                row["progress"],
                event.transaction_id,
                event.position,
            )
        )


class CommitmentBulk(BulkFold):
    """Every forum, leader and commitment row in memory; change rows written page by page."""

    streams = ("forum", "leader", "organisation", "commitment")
    copies_times = True
    # From the commitments rows once written, by the live path's own statement.
    derived: ClassVar[dict[str, str]] = {
        "purpose_commitments": LINK_ALL,
        "purpose_commitments_history": LINK_HISTORY_ALL,
    }

    def __init__(self) -> None:
        super().__init__()
        self.fold = _Fold(commitments=CompactRows(SHARED, key="commitment_id", split=True))
        self.history = History(KEYS, live=False)

    async def prepare(self, conn: Connection, schema: str) -> None:
        await super().prepare(conn, schema)
        self.history.shapes = self.history_shapes(KEYS)

    def apply(self, event: RecordedEvent) -> None:
        record(self.fold, event, self.history)

    def take(self) -> Callable[[Connection], Awaitable[None]] | None:
        self.fold.dirty.clear()  # every row is written at the end anyway
        # Each past version of a row is written once the next one has closed it.
        past = {table: self.history.take(table) for table in KEYS}
        records, self.fold.changes = self.fold.changes, []
        if not records and not any(past.values()):
            return None

        async def write(conn: Connection) -> None:
            await conn.copy_records_to_table(
                "commitment_changes",
                records=records,
                columns=CHANGE_COLUMNS,
                schema_name=self.schema,
            )
            for table, rows in past.items():
                await self.table[f"{table}_history"].copy_records(conn, rows)

        return write

    async def write(self, conn: Connection) -> None:
        await self.table["forums"].copy(conn, self.fold.forums.values())
        await self.table["leader_organisations"].copy(conn, self.fold.leaders.values())
        await self.table["organisations"].copy(conn, self.fold.organisations.values())
        # Each row gains its item on the way out: kept in the rows, it would cost the memory of
        # another copy of every commitment.
        await self.table["commitments"].copy(
            conn, ({**row, "item": render_item(row)} for row in self.fold.commitments.values())
        )
        for table in KEYS:
            rows = chain(self.history.take(table), self.history.current(table))
            await self.table[f"{table}_history"].copy_records(conn, rows)
