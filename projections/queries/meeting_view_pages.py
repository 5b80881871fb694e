"""The meeting view's lists that grow with the forum's work, read a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from projections.queries import paging
from projections.queries.meeting_changes import GROUPS, changes_since
from projections.queries.names import line_names
from tracker.domain import InvalidValue

SECTIONS = ("decisions", "commitments_made", *GROUPS)
# What a cursor holds: its section, and the key of the last row of the page it follows (the
# decision's position, or the commitment's created_at and id).
CursorKey = tuple[str, int | None, datetime | None, UUID | None]

COUNTS = """
SELECT (SELECT count(*) FROM meeting_decisions WHERE meeting_id = $1) AS decisions,
       (SELECT count(*) FROM commitments WHERE meeting_id = $1) AS commitments_made
"""
DECISIONS = """
SELECT decision_id, text, recorded_at, decision_rule, decision_rule_id, position
FROM meeting_decisions
WHERE meeting_id = $1 AND position > $2::bigint
ORDER BY position
LIMIT $3::integer + 1
"""
COMMITMENTS_OF = f"""
SELECT commitment_id, description, status, owner_id, owner_organisation_id, requester_id,
       due_on, progress, meeting_id, updated_at, created_at, {line_names("commitments")}
FROM commitments
WHERE meeting_id = $1
  AND ($2::timestamptz IS NULL OR (created_at, commitment_id) > ($2::timestamptz, $3::uuid))
ORDER BY created_at, commitment_id
LIMIT $4::integer + 1
"""


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """How many entries each paged list of the meeting view holds in full."""

    decisions: int
    commitments_made: int
    done: int
    changed_terms: int
    handed_over: int
    no_longer_pursued: int
    new: int
    still_open: int
    overdue: int


class Cursors(msgspec.Struct, frozen=True, kw_only=True):
    """Per list, the cursor of its next page (null when the page listed is its last)."""

    decisions: str | None = None
    commitments_made: str | None = None
    done: str | None = None
    changed_terms: str | None = None
    handed_over: str | None = None
    no_longer_pursued: str | None = None
    new: str | None = None
    still_open: str | None = None
    overdue: str | None = None


class Pages:
    """One request's pages: its limit, the section asked for and where it starts."""

    def __init__(self, limit: int, section: str | None, cursor: str | None) -> None:
        self.limit, self.section = limit, section
        self.after: CursorKey = ("", None, None, None)  # from the start
        if cursor is not None:
            self.after = key_of(cursor, section)
            self.section = self.after[0]
        self.cursors: dict[str, str | None] = {}

    def listed(self, name: str) -> bool:
        """Whether this request lists the named section."""
        return self.section in (None, name)

    async def decisions(self, conn: Any, meeting_id: UUID) -> list[Any]:
        """A page of the meeting's decisions, in the order they were recorded."""
        if not self.listed("decisions"):
            return []
        rows = await conn.fetch(DECISIONS, meeting_id, self.after[1] or 0, self.limit)
        return self._cut("decisions", rows, lambda r: [r["position"], None, None])

    async def commitments(self, conn: Any, meeting_id: UUID) -> list[Any]:
        """A page of the commitments made at the meeting, oldest first."""
        if not self.listed("commitments_made"):
            return []
        _, _, created_at, commitment_id = self.after
        rows = await conn.fetch(COMMITMENTS_OF, meeting_id, created_at, commitment_id, self.limit)
        return self._cut("commitments_made", rows, _by_time)

    async def groups(
        self, conn: Any, meeting_id: UUID, previous: UUID | None
    ) -> tuple[dict[str, int], dict[str, list[Any]]]:
        """Each group's count of what changed since the previous meeting, and a page of each
        group listed, oldest first."""
        listed = [g for g in GROUPS if self.listed(g)]
        counts, pages = await changes_since(
            conn, meeting_id, previous, listed, self.after, self.limit
        )
        return counts, {g: self._cut(g, rows, _by_time) for g, rows in pages.items()}

    def _cut(self, name: str, rows: list[Any], key: Any) -> list[Any]:
        page = rows[: self.limit]
        if len(rows) > self.limit:
            self.cursors[name] = paging.encode([name, *key(page[-1])])
        return page


def _by_time(row: Any) -> list[Any]:
    return [None, row["created_at"], row["commitment_id"]]


def key_of(cursor: str, section: str | None) -> CursorKey:
    """The row a cursor points after, refused (422) unless it is one of the asked section's."""
    key: CursorKey = paging.decode(cursor, CursorKey)
    name, position, created_at, commitment_id = key
    by_position = name == "decisions"
    if (
        name not in SECTIONS
        or (position is None) == by_position
        or (created_at is None or commitment_id is None) != by_position
        or (created_at is not None and created_at.tzinfo is None)
        or (position is not None and not 0 <= position < 2**63)
    ):
        raise InvalidValue("cursor", paging.NOT_OURS)
    if section is not None and name != section:
        raise InvalidValue("cursor", f"a cursor of {name}, not of {section}")
    return key
