"""Rows for bulk builds: compact in memory, and shaped for binary COPY."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from operator import itemgetter
from typing import Any

import msgspec

from projections.pg_time import to_count
from tracker.database import Connection

Row = dict[str, Any]

COLUMNS = """
SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a
WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

# The folds keep dates and some times as ISO strings (as JSON carries them to the live path's
# jsonb_populate_recordset); binary COPY wants the real types.
FROM_TEXT: dict[str, Callable[[str], Any]] = {
    # A few thousand distinct dates serve 150,000 commitments: each is parsed once.
    "date": functools.cache(date.fromisoformat),
    "timestamp with time zone": datetime.fromisoformat,
}


def _encode_jsonb(value: object) -> bytes:
    return b"\x01" + msgspec.json.encode(value)  # jsonb's binary format: a version byte, text


def _decode_jsonb(data: bytes) -> Any:
    return msgspec.json.decode(memoryview(data)[1:])


def _encode_timestamptz(value: int | datetime) -> tuple[int]:
    if isinstance(value, int):
        return (value,)  # read as a count, passed through untouched
    return (to_count(value),)


async def use_copy_codecs(conn: Connection) -> None:
    """Binary jsonb for COPY (the pool's codec is text-only), and timestamps read and written
    as PostgreSQL's own count of microseconds: a rebuild moves two million of them, and the
    driver's datetimes cost four times as much each way (measured)."""
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_encode_jsonb, decoder=_decode_jsonb, format="binary"
    )
    await conn.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=_encode_timestamptz,
        decoder=itemgetter(0),
        format="tuple",
    )


class Table:
    """One table's columns, and how a fold's row becomes a COPY record."""

    def __init__(self, schema: str, name: str, columns: list[tuple[str, str]]) -> None:
        self.schema, self.name = schema, name
        self._typed = columns
        self.columns = tuple(column for column, _ in columns)
        self._every = itemgetter(*self.columns)
        self._convert = [
            (i, FROM_TEXT[kind]) for i, (_, kind) in enumerate(columns) if kind in FROM_TEXT
        ]

    def _values(self, row: Row) -> tuple[Any, ...]:
        try:
            values = self._every(row)
        except KeyError:
            # A missing key is NULL, as jsonb_populate_recordset has it on the live path.
            return tuple(row.get(c) for c in self.columns)
        return values if len(self.columns) > 1 else (values,)

    def head(self, count: int) -> Table:
        """The same table's first count columns: a history's, less its range."""
        return Table(self.schema, self.name, self._typed[:count])

    @classmethod
    async def load(cls, conn: Connection, schema: str, name: str) -> Table:
        """Read a table's columns and their types from the catalogue."""
        return cls(schema, name, [(r[0], r[1]) for r in await conn.fetch(COLUMNS, schema, name)])

    def record(self, row: Row) -> tuple[Any, ...]:
        """The row's values in column order, ISO strings turned into dates and times."""
        values = self._values(row)
        if not self._convert:
            return values
        out = list(values)
        for i, parse in self._convert:
            if type(out[i]) is str:
                out[i] = parse(out[i])
        return tuple(out)

    async def copy(self, conn: Connection, rows: Iterable[Row]) -> None:
        """COPY rows into the table, in conn's transaction."""
        await self.copy_records(conn, (self.record(r) for r in rows))

    async def copy_records(self, conn: Connection, records: Iterable[tuple[Any, ...]]) -> None:
        """COPY records already in column order."""
        await conn.copy_records_to_table(
            self.name, records=records, columns=self.columns, schema_name=self.schema
        )


class CompactRows(dict[Any, Row]):
    """A table of rows kept in less memory than plain dicts, for 150,000 commitments.

    Strings in the shared columns (ids and dates that repeat across rows) are stored once, and
    with a key column the row's own id string doubles as its key. With split, each row is a
    copy of one template: the attribute dictionary of an instance, which CPython keeps as a
    split table, so the keys are stored once and each row holds only its values (about 340
    bytes, against 830 for a plain dict of 22 keys; it does not pay below about 12 keys).
    Rows stay plain dicts to the folds; one that gains a new key just becomes an ordinary dict.
    """

    def __init__(
        self, shared: Iterable[str] = (), key: str | None = None, split: bool = False
    ) -> None:
        super().__init__()
        # A class of its own: the split keys belong to the class, and tables must not mix them.
        self._holder: type | None = type("CompactRow", (), {}) if split else None
        self._template: Row | None = None
        self._shared = tuple(shared)
        self._key = key
        self._strings: dict[str, str] = {}

    def __setitem__(self, key: Any, row: Row) -> None:
        if self._key is not None:
            key = row[self._key]  # equal to the key given; one string then serves both
        same = self._strings.setdefault
        for column in self._shared:
            value = row.get(column)
            if type(value) is str:
                row[column] = same(value, value)
        if self._holder is not None:
            if self._template is None:
                self._template = _split_template(self._holder, row)
            compact = self._template.copy()
            compact.update(row)  # the keys exist already, so only values are set: still split
            row = compact
        dict.__setitem__(self, key, row)


def _split_template(holder: type, row: Row) -> Row:
    """The attribute dictionary of a new holder, with the row's keys in the row's order."""
    instance = holder()
    for column in row:
        setattr(instance, column, None)
    template: Row = instance.__dict__
    return template
