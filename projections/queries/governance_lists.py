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
from projections.queries.sql import Args, Scope, readable, scope_forums
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
    """One list: its table and alias, the columns it shows, its key (time, id), its types."""

    table: str
    alias: str
    columns: str
    key: tuple[str, str]
    item: type[Any]
    page: type[Any]


PURPOSES = Listing(
    table="purposes",
    alias="p",
    columns=f"""p.purpose_id, p.forum_id, f.name AS forum_name, p.statement, p.status,
       p.decision_rule, p.adopted_meeting_id, p.proposed_by,
       {leader_name("p.proposed_by")} AS proposed_by_name, p.proposed_at, p.last_activity,
       p.version""",
    key=("proposed_at", "purpose_id"),
    item=PurposeItem,
    page=PurposePage,
)
# A time stored before the API bounded its input is shown at the nearest end of the span.
MEETINGS = Listing(
    table="meetings",
    alias="m",
    columns=f"""m.meeting_id, m.forum_id, f.name AS forum_name, m.title,
       {readable("m.starts_at")} AS starts_at, m.location, m.status, m.record_version""",
    key=("starts_at", "meeting_id"),
    item=MeetingItem,
    page=MeetingPage,
)
AGREEMENTS = Listing(
    table="agreements",
    alias="a",
    columns=f"""a.agreement_id, a.forum_id, f.name AS forum_name, a.scope, a.scope_id, a.kind,
       a.title, a.text, a.status, a.decision_rule, a.adopted_meeting_id, a.adopted_at,
       a.proposed_by, {leader_name("a.proposed_by")} AS proposed_by_name, a.proposed_at,
       a.rescinded_at""",
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
# One row more than asked says whether there is a next page. Across every forum, the key's own
# index gives the rows in order.
ALL_FORUMS = """
SELECT {columns}
FROM {table} {t} LEFT JOIN forums f ON f.forum_id = {t}.forum_id
WHERE {where}
ORDER BY {order}
LIMIT {limit} + 1
"""
# Within some forums, each forum's first rows come from its (forum_id, key) index and only
# those are merged: a leader of a small forum among many big ones never walks the others' rows.
# Names are looked up for the page's rows alone, once they are chosen.
SOME_FORUMS = """
SELECT {columns}
FROM (
    SELECT r.* FROM unnest({forums}) AS s(forum_id), LATERAL (
        SELECT * FROM {table} {t}
        WHERE {t}.forum_id = s.forum_id AND {where}
        ORDER BY {order}
        LIMIT {limit} + 1
    ) r
    ORDER BY {merged}
    LIMIT {limit} + 1
) {t} LEFT JOIN forums f ON f.forum_id = {t}.forum_id
ORDER BY {order}
"""


def _where(listing: Listing, filters: ListFilters, cursor: str | None, args: Args) -> str:
    t, (at, key) = listing.alias, listing.key
    where = ["true"]
    if filters.resource_id is not None:
        where.append(f"{t}.{key} = {args.add(filters.resource_id)}::uuid")
    for name, template in PREDICATES.items():
        value = getattr(filters, name)
        if value is not None:
            value = list(value) if isinstance(value, tuple) else value
            where.append(template.format(t=t, v=args.add(value)))
    if cursor is not None:
        moment, after = decode_cursor(cursor)
        where.append(
            f"({t}.{at}, {t}.{key}) > ({args.add(moment)}::timestamptz, {args.add(after)}::uuid)"
        )
    return " AND ".join(where)


async def list_page(
    pool: asyncpg.Pool,
    listing: Listing,
    filters: ListFilters,
    scope: Scope,
    cursor: str | None,
    limit: int,
) -> Any:
    """One page of the listing's items in key order, after cursor, in the caller's forums."""
    args = Args()
    forums = scope_forums(scope, args)
    t, (at, key) = listing.alias, listing.key
    sql = (ALL_FORUMS if forums is None else SOME_FORUMS).format(
        columns=listing.columns,
        table=listing.table,
        t=t,
        forums=forums,
        where=_where(listing, filters, cursor, args),
        order=f"{t}.{at}, {t}.{key}",
        merged=f"r.{at}, r.{key}",
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
