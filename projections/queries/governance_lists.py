"""The purpose, meeting and agreement lists: filtered, access-limited, keyset-paginated rows of
the governance views, each with its forum's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import paging
from projections.queries.governance_items import (
    AgreementItem,
    AgreementPage,
    MeetingItem,
    MeetingPage,
    PurposeItem,
    PurposePage,
)
from projections.queries.names import leader_name
from projections.queries.sql import Args, Scope, readable, scope_predicate
from tracker.domain import InvalidValue

__all__ = ["LISTINGS", "ListFilters", "list_page"]


class ListFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller asked for; None means no filter."""

    forum_id: UUID | None = None
    # The id an external reference derives: a lookup is a filter on it.
    resource_id: UUID | None = None
    statuses: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    # Meetings only: starts_at in [starts_from, starts_before).
    starts_from: datetime | None = None
    starts_before: datetime | None = None


@dataclass(frozen=True)
class Listing:
    """One list: its rows' SELECT, the row alias, its key columns (time, id) and item type."""

    select: str
    alias: str
    key: tuple[str, str]
    item: type[Any]
    page: type[Any]


PURPOSES = Listing(
    select=f"""
SELECT p.purpose_id, p.forum_id, f.name AS forum_name, p.statement, p.status,
       p.decision_rule, p.adopted_meeting_id, p.proposed_by,
       {leader_name("p.proposed_by")} AS proposed_by_name, p.proposed_at, p.last_activity,
       p.version
FROM purposes p LEFT JOIN forums f ON f.forum_id = p.forum_id""",
    alias="p",
    key=("proposed_at", "purpose_id"),
    item=PurposeItem,
    page=PurposePage,
)
# A time stored before the API bounded its input is shown at the nearest end of the span.
MEETINGS = Listing(
    select=f"""
SELECT m.meeting_id, m.forum_id, f.name AS forum_name, m.title,
       {readable("m.starts_at")} AS starts_at, m.location, m.status, m.record_version
FROM meetings m LEFT JOIN forums f ON f.forum_id = m.forum_id""",
    alias="m",
    key=("starts_at", "meeting_id"),
    item=MeetingItem,
    page=MeetingPage,
)
AGREEMENTS = Listing(
    select=f"""
SELECT a.agreement_id, a.forum_id, f.name AS forum_name, a.scope, a.scope_id, a.kind, a.title,
       a.text, a.status, a.decision_rule, a.adopted_meeting_id, a.adopted_at, a.proposed_by,
       {leader_name("a.proposed_by")} AS proposed_by_name, a.proposed_at, a.rescinded_at
FROM agreements a LEFT JOIN forums f ON f.forum_id = a.forum_id""",
    alias="a",
    key=("proposed_at", "agreement_id"),
    item=AgreementItem,
    page=AgreementPage,
)
LISTINGS = {"purposes": PURPOSES, "meetings": MEETINGS, "agreements": AGREEMENTS}
# Each filter's predicate on the row aliased {t}; {v} is its parameter.
PREDICATES = {
    "forum_id": "{t}.forum_id = {v}::uuid",
    "statuses": "{t}.status = ANY({v}::text[])",
    "kinds": "{t}.kind = ANY({v}::text[])",
    "starts_from": "{t}.starts_at >= {v}::timestamptz",
    "starts_before": "{t}.starts_at < {v}::timestamptz",
}
# One row more than asked says whether there is a next page.
PAGE_SQL = "{select}\nWHERE {where}\nORDER BY {order}\nLIMIT {limit} + 1"


def _where(listing: Listing, filters: ListFilters, scope: Scope, args: Args) -> list[str]:
    t = listing.alias
    where = ["true"]
    if filters.resource_id is not None:
        where.append(f"{t}.{listing.key[1]} = {args.add(filters.resource_id)}::uuid")
    for name, template in PREDICATES.items():
        value = getattr(filters, name)
        if value is not None:
            value = list(value) if isinstance(value, tuple) else value
            where.append(template.format(t=t, v=args.add(value)))
    if (visible := scope_predicate(scope, args, f"{t}.forum_id")) is not None:
        where.append(visible)
    return where


async def list_page(
    pool: asyncpg.Pool,
    listing: Listing,
    filters: ListFilters,
    scope: Scope,
    cursor: str | None,
    limit: int,
) -> Any:
    """One page of the listing's items in key order, after cursor."""
    args = Args()
    where = _where(listing, filters, scope, args)
    t, (at, key) = listing.alias, listing.key
    if cursor is not None:
        moment, after = decode_cursor(cursor)
        where.append(
            f"({t}.{at}, {t}.{key}) > ({args.add(moment)}::timestamptz, {args.add(after)}::uuid)"
        )
    sql = PAGE_SQL.format(
        select=listing.select,
        where=" AND ".join(where),
        order=f"{t}.{at}, {t}.{key}",
        limit=int(limit),
    )
    rows = await pool.fetch(sql, *args.values)
    items = [listing.item(**dict(row)) for row in rows[:limit]]
    last = items[-1] if items and len(rows) > limit else None
    next_cursor = None if last is None else paging.encode([getattr(last, at), getattr(last, key)])
    return listing.page(items=items, next_cursor=next_cursor)


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The row a cursor points after; 422 for anything this API did not hand out."""
    moment, after = paging.decode(cursor, tuple[datetime, UUID])
    if moment.tzinfo is None:
        raise InvalidValue("cursor", paging.NOT_OURS)
    return moment, after
