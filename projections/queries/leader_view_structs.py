"""What the leader view answers with, and what a caller may ask of it."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from projections.queries.commitment_list import CommitmentItem
from projections.queries.paging import PAGE

GROUPS = ("awaiting_response", "overdue", "due_soon", "active", "no_due_date", "recently_finished")
# What a group's cursor holds: the group, and the key of the last row of the page it follows
# (finished_at for recently_finished only, due_on, created_at, commitment_id).
CursorKey = tuple[str, datetime | None, date | None, datetime, UUID]


class LeaderItem(CommitmentItem, frozen=True, kw_only=True):
    """A commitment in a leader's view: how they relate to it, and what it awaits from them."""

    role: str
    awaiting: str | None


class ForumToday(msgspec.Struct, frozen=True, kw_only=True):
    """The local date overdue and due-soon were judged by in one forum."""

    forum_id: UUID
    timezone: str
    today: date


class GroupCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many commitments each group holds."""

    awaiting_response: int
    overdue: int
    due_soon: int
    active: int
    no_due_date: int
    recently_finished: int


class LeaderGroups(msgspec.Struct, frozen=True, kw_only=True):
    """A page of each group (each commitment in exactly one), earliest due first."""

    awaiting_response: list[LeaderItem]
    overdue: list[LeaderItem]
    due_soon: list[LeaderItem]
    active: list[LeaderItem]
    no_due_date: list[LeaderItem]
    recently_finished: list[LeaderItem]


class GroupCursors(msgspec.Struct, frozen=True, kw_only=True):
    """Per group, the cursor of its next page (null when the page listed is its last)."""

    awaiting_response: str | None
    overdue: str | None
    due_soon: str | None
    active: str | None
    no_due_date: str | None
    recently_finished: str | None


class LeaderCommitments(msgspec.Struct, frozen=True, kw_only=True):
    """A leader's actions, as of evaluated_at: every group counted, a page of each listed."""

    leader_id: UUID
    evaluated_at: datetime
    due_soon_days: int
    finished_days: int
    today: list[ForumToday]
    counts: GroupCounts
    limit: int
    group: str | None
    cursors: GroupCursors
    groups: LeaderGroups


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's window sizes, filters and page; None means no filter (or all groups)."""

    due_soon_days: int = 14
    finished_days: int = 30
    role: str | None = None
    forum_id: UUID | None = None
    purpose_id: UUID | None = None
    statuses: tuple[str, ...] | None = None
    limit: int = PAGE
    group: str | None = None
    cursor: str | None = None


class LeaderHead(msgspec.Struct, frozen=True, kw_only=True):
    """Whose view and when: the part of a LeaderCommitments that is new on every read."""

    leader_id: UUID
    evaluated_at: datetime


class LeaderRest(msgspec.Struct, frozen=True, kw_only=True):
    """The rest of a LeaderCommitments on the wire, its groups already JSON."""

    due_soon_days: int
    finished_days: int
    today: list[ForumToday]
    counts: dict[str, int]
    limit: int
    group: str | None
    cursors: dict[str, str | None]
    groups: dict[str, msgspec.Raw]
