"""What the purpose, meeting and agreement lists show of each row, and their pages."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class PurposeItem(msgspec.Struct, frozen=True, kw_only=True):
    """A purpose as the list shows it: its current statement, forum and proposer by name."""

    purpose_id: UUID
    forum_id: UUID
    forum_name: str | None
    statement: str
    status: str
    decision_rule: str | None
    adopted_meeting_id: UUID | None
    proposed_by: UUID
    proposed_by_name: str | None
    proposed_at: datetime
    last_activity: datetime
    version: int


class MeetingItem(msgspec.Struct, frozen=True, kw_only=True):
    """A meeting as the list shows it, with its forum's name."""

    meeting_id: UUID
    forum_id: UUID
    forum_name: str | None
    title: str
    starts_at: datetime
    location: str
    status: str
    record_version: int


class AgreementItem(msgspec.Struct, frozen=True, kw_only=True):
    """An agreement as the list shows it: its current (amended) text, forum and proposer by
    name; `forum_id` is the forum it belongs to (a purpose-scoped one's purpose's forum)."""

    agreement_id: UUID
    forum_id: UUID | None
    forum_name: str | None
    scope: str
    scope_id: UUID
    kind: str
    title: str
    text: str
    status: str
    decision_rule: str | None
    adopted_meeting_id: UUID | None
    adopted_at: datetime | None
    proposed_by: UUID
    proposed_by_name: str | None
    proposed_at: datetime
    rescinded_at: datetime | None


class PurposePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of purposes; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[PurposeItem]
    next_cursor: str | None


class MeetingPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of meetings; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[MeetingItem]
    next_cursor: str | None


class AgreementPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of agreements; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[AgreementItem]
    next_cursor: str | None
