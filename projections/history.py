"""Row history: each version of a view row with the range of the log during which it held."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tracker.database import Connection
from tracker.eventstore import RecordedEvent

Row = dict[str, Any]
Key = tuple[str, ...]
# (transaction_id, position, the row then or None once it is gone); a bulk build keeps the row
# as its COPY record instead, its values in the history's column order.
Version = tuple[int, int, Any]
# A bulk build's way to make a row the record of its version, less the range.
Shape = Callable[[Row], tuple[Any, ...]]

# A version holds from its opening event (included) to its closing one (excluded), both in the
# log's (transaction_id, position) order; a version still current has no closing event.
RANGE = ("opened_tx", "opened_pos", "closed_tx", "closed_pos")
RANGE_COLUMNS = """
ALTER TABLE {table}_history
    ADD COLUMN opened_tx  bigint NOT NULL,
    ADD COLUMN opened_pos bigint NOT NULL,
    ADD COLUMN closed_tx  bigint,
    ADD COLUMN closed_pos bigint
"""
INDEXES = """
SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass
"""
INDEX = re.compile(r"^CREATE (?:UNIQUE )?INDEX (\S+) ON (\S+) (USING .*)$")
CLOSE = """
UPDATE {table}_history h SET closed_tx = d.closed_tx, closed_pos = d.closed_pos
FROM jsonb_to_recordset($1::jsonb) AS d({keys}, closed_tx bigint, closed_pos bigint)
WHERE {match} AND h.closed_tx IS NULL
"""
INSERT = """
INSERT INTO {table}_history
SELECT * FROM jsonb_populate_recordset(NULL::{table}_history, $1::jsonb)
"""


async def create_history(
    conn: Connection,
    schema: str,
    tables: Sequence[str],
    omits: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Beside each table, its history: the same columns (less those omitted) and indexes (none
    unique), and a range.

    Runs with search_path at the generation's schema, after the projection's DDL."""
    for table in tables:
        await conn.execute(f"CREATE TABLE {table}_history (LIKE {table})")
        for column in (omits or {}).get(table, ()):
            await conn.execute(f"ALTER TABLE {table}_history DROP COLUMN {column}")
        await conn.execute(RANGE_COLUMNS.format(table=table))
        # A past view reads its history by the same indexes a live view reads its table by.
        for (definition,) in await conn.fetch(INDEXES, schema, table):
            match = INDEX.match(definition)
            assert match is not None, definition
            name, _, rest = match.groups()
            await conn.execute(f"CREATE INDEX {name}_h ON {table}_history {rest}")


class History:
    """The versions a fold made of some tables' rows, event by event, ready to write."""

    def __init__(
        self, keys: Mapping[str, Key], live: bool = True, shapes: Mapping[str, Shape] | None = None
    ) -> None:
        # The columns that name a row of each table.
        self.keys = keys
        # A bulk build starts from empty tables: it has no stored versions to close.
        self.live = live
        # A bulk build keeps each version as its record (a tuple), far smaller than a copy of
        # the row's dict for 150,000 open commitment versions, and not converted again when
        # written.
        self.shapes = shapes or {}
        # The newest version of each row seen, not yet written: the next one closes it.
        self.last: dict[str, dict[Key, Version]] = {t: {} for t in keys}
        # Where each row was first changed here: the version stored before then closes there.
        self.first: dict[str, dict[Key, tuple[int, int]]] = {t: {} for t in keys}
        self.closed: dict[str, list[Any]] = {t: [] for t in keys}

    def put(
        self,
        table: str,
        event: RecordedEvent,
        row: Row | None,
        key: Key | None = None,
    ) -> None:
        """A new version of a row as of the event, or its end (row None): a copy of row, or
        with a shape for its table, its record."""
        if key is None:
            assert row is not None
            key = tuple(str(row[k]) for k in self.keys[table])
        at = (event.transaction_id, event.position)
        last = self.last[table]
        before = last.get(key)
        if before is None:
            if self.live:
                self.first[table].setdefault(key, at)
        elif before[2] is not None and before[:2] != at:
            self.closed[table].append(_ranged(before, at))
        if row is None:
            last.pop(key, None)
        elif (shape := self.shapes.get(table)) is not None:
            last[key] = (*at, shape(row))
        else:
            last[key] = (*at, dict(row))

    def take(self, table: str) -> list[Any]:
        """The versions of a table closed so far (each once)."""
        rows, self.closed[table] = self.closed[table], []
        return rows

    def current(self, table: str) -> Iterator[Any]:
        """The newest version of each row, open."""
        for version in self.last[table].values():
            if version[2] is not None:
                yield _ranged(version, None)

    async def write(self, conn: Connection) -> None:
        """Close the stored versions these replace, then store these (the live path)."""
        for table, keys in self.keys.items():
            first = self.first[table]
            if first:
                columns = ", ".join(f"{k} uuid" for k in keys)
                match = " AND ".join(f"h.{k} = d.{k}" for k in keys)
                closes = [
                    {**dict(zip(keys, key, strict=True)), "closed_tx": tx, "closed_pos": pos}
                    for key, (tx, pos) in first.items()
                ]
                sql = CLOSE.format(table=table, keys=columns, match=match)
                await conn.execute(sql, closes)
            rows = [*self.take(table), *self.current(table)]
            if rows:
                await conn.execute(INSERT.format(table=table), rows)


def _ranged(version: Version, closed: tuple[int, int] | None) -> Any:
    """The version's row with its range (the row is the version's own copy: changed in place),
    or its record followed by the range."""
    tx, pos, row = version
    assert row is not None
    if type(row) is tuple:
        return (*row, tx, pos, *((None, None) if closed is None else closed))
    row["opened_tx"], row["opened_pos"] = tx, pos
    row["closed_tx"], row["closed_pos"] = (None, None) if closed is None else closed
    return row


class Marks(set[tuple[str, str]]):
    """A fold's set of changed rows that also lists those the current event marked."""

    def __init__(self, marked: set[tuple[str, str]]) -> None:
        super().__init__(marked)
        self.latest: list[tuple[str, str]] = []

    def add(self, mark: tuple[str, str]) -> None:
        """Mark a row as changed, by the current event too."""
        set.add(self, mark)
        self.latest.append(mark)


def record_dirty(fold: Any, event: RecordedEvent) -> list[tuple[str, str]]:
    """Apply one event to a fold with a dirty set, and return the rows this event changed."""
    marks = fold.dirty
    if type(marks) is not Marks:
        marks = fold.dirty = Marks(marks)
    marks.latest = []
    fold.apply(event)
    latest = marks.latest
    return latest if len(latest) < 2 else list(dict.fromkeys(latest))
