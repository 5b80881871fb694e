"""A tiny projection for runner tests: one row per event, keyed by position, so an event
applied twice fails loudly and one skipped shows as a missing row."""

from __future__ import annotations

from collections.abc import Sequence

from projections.base import Projection
from tracker.database import Connection
from tracker.eventstore import RecordedEvent


class Probe(Projection):
    """Records each event's position once."""

    name = "probe_v1"
    ddl = "CREATE TABLE probe_seen (position bigint PRIMARY KEY, type text NOT NULL);"
    tables = ("probe_seen",)

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if self.fail_on is not None and any(e.type == self.fail_on for e in events):
            raise ValueError(f"cannot handle {self.fail_on}")
        await conn.execute(
            "INSERT INTO probe_seen SELECT * FROM unnest($1::bigint[], $2::text[])",
            [e.position for e in events],
            [e.type for e in events],
        )
