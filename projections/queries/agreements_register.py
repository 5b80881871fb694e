"""The agreements register: a forum's agreements and its purposes', with adoption and amendments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.meeting_view import MeetingRef
from projections.queries.sql import readable

Include = Literal["in_force", "all"]


class AgreementAmendment(msgspec.Struct, frozen=True, kw_only=True):
    """One amendment of the text, and why."""

    text: str
    reason: str
    at: datetime


class RegisterEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An agreement as the register lists it; `text` is the current, amended text."""

    agreement_id: UUID
    scope: str
    scope_id: UUID
    purpose_statement: str | None
    kind: str
    title: str
    text: str
    status: str
    decision_rule: str | None
    proposed_at: datetime
    adopted_at: datetime | None
    adopted_meeting_id: UUID | None
    adopted_meeting: MeetingRef | None
    amendments: list[AgreementAmendment]
    rescinded_at: datetime | None
    rescinded_reason: str | None


class AgreementsRegister(msgspec.Struct, frozen=True, kw_only=True):
    """A forum's agreements: those in force, or with include=all every one ever proposed."""

    forum_id: UUID
    include: str
    agreements: list[RegisterEntry]


FORUM_KNOWN = "SELECT true FROM forums WHERE forum_id = $1"
# Purpose-scoped agreements carry their purpose's forum, so one forum_id filter finds both.
REGISTER = f"""
SELECT a.agreement_id, a.scope, a.scope_id, p.statement AS purpose_statement, a.kind, a.title,
       a.text, a.status, a.decision_rule, a.proposed_at, a.adopted_at, a.adopted_meeting_id,
       a.amendments, a.rescinded_at, a.rescinded_reason,
       m.title AS meeting_title, {readable("m.starts_at")} AS meeting_starts_at
FROM agreements a
LEFT JOIN purposes p ON a.scope = 'purpose' AND p.purpose_id = a.scope_id
LEFT JOIN meetings m ON m.meeting_id = a.adopted_meeting_id
WHERE a.forum_id = $1 AND ($2 OR a.status = 'adopted')
ORDER BY a.scope, a.kind, a.adopted_at NULLS LAST, a.proposed_at, a.agreement_id
"""


async def forum_known(pool: asyncpg.Pool, forum_id: UUID) -> bool:
    """Whether the views know the forum."""
    return bool(await pool.fetchval(FORUM_KNOWN, forum_id))


async def agreements_register(
    pool: asyncpg.Pool, forum_id: UUID, include: Include = "in_force"
) -> AgreementsRegister:
    """The forum's register, in force only unless include is 'all'."""
    rows = await pool.fetch(REGISTER, forum_id, include == "all")
    return AgreementsRegister(
        forum_id=forum_id, include=include, agreements=[entry(r) for r in rows]
    )


def entry(row: Any) -> RegisterEntry:
    """One register line, with the adoption meeting when the view knows it."""
    values = dict(row)
    title, starts_at = values.pop("meeting_title"), values.pop("meeting_starts_at")
    meeting = None
    if title is not None:
        meeting = MeetingRef(
            meeting_id=values["adopted_meeting_id"], title=title, starts_at=starts_at
        )
    return msgspec.convert(values | {"adopted_meeting": meeting}, RegisterEntry)
