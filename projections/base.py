"""What a projection is: a versioned name, the tables it owns, and how it applies events."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from tracker.database import Connection
from tracker.eventstore import RecordedEvent

if TYPE_CHECKING:
    from projections.bulk import BulkFold

NAME = re.compile(r"^[a-z][a-z0-9_]*_v[0-9]+$")


class Projection:
    """A read model rebuilt from events; subclasses set name, ddl and tables and apply()."""

    name: ClassVar[str]
    # CREATE TABLE statements with unqualified names, run inside the generation's schema.
    ddl: ClassVar[str]
    # The tables readers see, as views in the public schema.
    tables: ClassVar[tuple[str, ...]]
    # The tables that keep every past version of their rows in <table>_history, beside them.
    history: ClassVar[tuple[str, ...]] = ()
    # Columns a history leaves out, by table: its past view computes each with the function
    # <table>_<column>(history row) that history_ddl defines (migration 0013).
    history_omits: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Statements run in the generation's schema once the histories exist.
    history_ddl: ClassVar[str] = ""

    def __init_subclass__(cls) -> None:
        if not NAME.match(cls.name):
            raise ValueError(f"projection name {cls.name!r} must look like leader_view_v1")

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Apply a batch of events (in global order) inside the runner's transaction."""
        raise NotImplementedError

    def bulk(self) -> BulkFold | None:
        """A fold that builds an empty generation from the whole log in memory, or None to
        replay the log batch by batch."""
        return None

    def schema(self, generation: int) -> str:
        """The schema holding one generation of the tables."""
        return schema_of(self.name, generation)


def schema_of(name: str, generation: int) -> str:
    """The schema holding one generation of a projection's tables."""
    return f"{name}_g{generation}"
