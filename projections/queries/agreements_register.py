"""The agreements register: a forum's agreements and its purposes', with adoption and amendments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import paging
from projections.queries.meeting_view import MeetingRef
from projections.queries.names import leader_name
from projections.queries.paging import PAGE
from projections.queries.sql import readable
from tracker.application.bounds import AMENDMENTS
from tracker.domain import InvalidValue

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
    proposed_by: UUID
    proposed_by_name: str | None
    proposed_at: datetime
    adopted_at: datetime | None
    adopted_meeting_id: UUID | None
    adopted_meeting: MeetingRef | None
    amendments: list[AgreementAmendment]
    amendments_total: int
    rescinded_at: datetime | None
    rescinded_reason: str | None


class AgreementsRegister(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a forum's agreements: those in force, or with include=all every one ever
    proposed; `total` counts them all, next_cursor is null on the last page."""

    forum_id: UUID
    forum_name: str | None
    include: str
    total: int
    limit: int
    agreements: list[RegisterEntry]
    next_cursor: str | None


FORUM_KNOWN = "SELECT true FROM forums WHERE forum_id = $1"
# The register's order as a row, a never-adopted agreement after every adopted one.
KEY = (
    "a.scope, a.kind, coalesce(a.adopted_at, 'infinity'::timestamptz), a.proposed_at, "
    "a.agreement_id"
)
AFTER = (
    f"({KEY}) > ($4::text, $5::text, coalesce($6::timestamptz, 'infinity'::timestamptz), "
    "$7::timestamptz, $8::uuid)"
)
# Purpose-scoped agreements carry their purpose's forum, so one forum_id filter finds both. The
# total and the page come from one statement, so they agree; a page past the last is one row of
# the total alone.
REGISTER = f"""
SELECT t.total, t.forum_name, r.*
FROM (SELECT count(*) AS total, (SELECT f.name FROM forums f WHERE f.forum_id = $1) AS forum_name
      FROM agreements a WHERE a.forum_id = $1 AND ($2 OR a.status = 'adopted')) t
LEFT JOIN LATERAL (
    SELECT a.agreement_id, a.scope, a.scope_id, p.statement AS purpose_statement, a.kind,
           a.title, a.text, a.status, a.decision_rule, a.proposed_by,
           {leader_name("a.proposed_by")} AS proposed_by_name, a.proposed_at, a.adopted_at,
           a.adopted_meeting_id, a.rescinded_at, a.rescinded_reason,
           (SELECT coalesce(jsonb_agg(x.value ORDER BY x.n), '[]')
            FROM (SELECT * FROM jsonb_array_elements(a.amendments) WITH ORDINALITY x(value, n)
                  ORDER BY x.n DESC LIMIT {AMENDMENTS}) x) AS amendments,
           coalesce(jsonb_array_length(a.amendments), 0) AS amendments_total,
           m.title AS meeting_title, {readable("m.starts_at")} AS meeting_starts_at
    FROM agreements a
    LEFT JOIN purposes p ON a.scope = 'purpose' AND p.purpose_id = a.scope_id
    LEFT JOIN meetings m ON m.meeting_id = a.adopted_meeting_id
    WHERE a.forum_id = $1 AND ($2 OR a.status = 'adopted') AND {{after}}
    ORDER BY {KEY}
    LIMIT $3::integer + 1
) r ON true
"""
# What a cursor holds: the key of the last agreement of the page it follows.
CursorKey = tuple[str, str, datetime | None, datetime, UUID]


async def forum_known(pool: asyncpg.Pool, forum_id: UUID) -> bool:
    """Whether the views know the forum."""
    return bool(await pool.fetchval(FORUM_KNOWN, forum_id))


async def agreements_register(
    pool: asyncpg.Pool,
    forum_id: UUID,
    include: Include = "in_force",
    cursor: str | None = None,
    limit: int = PAGE,
) -> AgreementsRegister:
    """A page of the forum's register, in force only unless include is 'all'."""
    args: list[object] = [forum_id, include == "all", limit]
    if cursor is not None:
        key: CursorKey = paging.decode(cursor, CursorKey)
        if any(t is not None and t.tzinfo is None for t in key[2:4]):
            raise InvalidValue("cursor", paging.NOT_OURS)
        args.extend(key)
    sql = REGISTER.format(after="true" if cursor is None else AFTER)
    found = await pool.fetch(sql, *args)
    total = found[0]["total"]
    rows = [r for r in found if r["agreement_id"] is not None]
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        names = ("scope", "kind", "adopted_at", "proposed_at", "agreement_id")
        next_cursor = paging.encode([last[name] for name in names])
    return AgreementsRegister(
        forum_id=forum_id,
        forum_name=found[0]["forum_name"],
        include=include,
        total=total,
        limit=limit,
        agreements=[entry(r) for r in page],
        next_cursor=next_cursor,
    )


def entry(row: Any) -> RegisterEntry:
    """One register line, with the adoption meeting when the view knows it."""
    values = dict(row)
    del values["total"], values["forum_name"]
    title, starts_at = values.pop("meeting_title"), values.pop("meeting_starts_at")
    meeting = None
    if title is not None:
        meeting = MeetingRef(
            meeting_id=values["adopted_meeting_id"], title=title, starts_at=starts_at
        )
    return msgspec.convert(values | {"adopted_meeting": meeting}, RegisterEntry)
