"""The commitment list: filtered, access-limited, keyset-paginated rows of the commitments view."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.commitment_fold import FINISHED, OPEN
from projections.queries import paging
from projections.queries.names import CommitmentNames, names_json, spliced
from projections.queries.sql import DEFAULT_TIMEZONE, Args, Scope, scope_predicate
from tracker.domain import InvalidValue

__all__ = ["DEFAULT_TIMEZONE", "STATUSES", "CommitmentItem", "CommitmentPage", "Filters", "Scope"]

STATUSES = (*OPEN, *FINISHED)


class TermsItem(msgspec.Struct, frozen=True, kw_only=True):
    """A description and due date, as asked for or as agreed."""

    description: str
    due_on: date | None


class CommitmentItem(CommitmentNames, frozen=True, kw_only=True):
    """A commitment as the views list it; `overdue` is computed when queried, never stored.

    Beside each id stands its current display name (owner_name, forum_name, purposes'
    statements, meeting_title...), looked up when read; `owner_role` is the owner's role with
    `owner_organisation_id`, the organisation they worked for when it was made.

    `asked_for` holds the terms first recorded (what the requester asked for, or what the
    owner first promised); `agreed` the terms agreed when it became active (a counter-offer,
    if one was accepted), null until then; `due_on` the current date, after renegotiation.
    """

    commitment_id: UUID
    forum_id: UUID
    forum_name: str | None
    description: str
    status: str
    owner_id: UUID
    owner_organisation_id: UUID | None
    requester_id: UUID | None
    handover_to: UUID | None
    purpose_ids: list[UUID]
    made_on: date
    due_on: date | None
    original_due_on: date | None
    asked_for: TermsItem
    agreed: TermsItem | None
    renegotiation_count: int
    progress: int | None
    counter_offer_pending: bool
    renegotiation_pending: bool
    overdue: bool
    meeting_id: UUID | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    version: int


class CommitmentPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the list; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[CommitmentItem]
    next_cursor: str | None
    evaluated_at: datetime


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller asked for; None means no filter."""

    # The id an external reference derives: a lookup is a filter on it.
    commitment_id: UUID | None = None
    owner_id: UUID | None = None
    requester_id: UUID | None = None
    purpose_id: UUID | None = None
    forum_id: UUID | None = None
    organisation_id: UUID | None = None
    statuses: tuple[str, ...] | None = None
    due_before: date | None = None
    due_after: date | None = None
    overdue: bool | None = None


# Open and due before today in the forum's time zone; $1 is always the app clock's moment,
# never the database's, so tests (and "as of" reads) control it.
OVERDUE = f"""(c.status IN ('proposed', 'active') AND c.due_on <
    ($1::timestamptz AT TIME ZONE coalesce(f.timezone, '{DEFAULT_TIMEZONE}'))::date)"""
# One row more than asked says whether there is a next page. Each row brings its stored item
# and what only the moment decides (overdue, in its forum's time zone) and its forum's name.
LIST = """
SELECT c.item, to_json(f.name)::text AS forum_name, coalesce({overdue}, false) AS overdue,
       {names} AS names, c.created_at, c.commitment_id
FROM commitments c LEFT JOIN forums f ON f.forum_id = c.forum_id
WHERE {where}
ORDER BY c.created_at, c.commitment_id
LIMIT {limit} + 1
"""
# Each filter's predicate; {} is its parameter. The planner sees only the filters in use.
PREDICATES = {
    "commitment_id": "c.commitment_id = {}::uuid",
    "owner_id": "c.owner_id = {}::uuid",
    "requester_id": "c.requester_id = {}::uuid",
    # The array is built once (an InitPlan), not again for every row the index finds.
    "purpose_id": "c.purpose_ids @> (SELECT jsonb_build_array({}::text))",
    "forum_id": "c.forum_id = {}::uuid",
    "organisation_id": "c.owner_organisation_id = {}::uuid",
    "statuses": "c.status = ANY({}::text[])",
    "due_before": "c.due_on <= {}::date",
    "due_after": "c.due_on >= {}::date",
}
AFTER = "(c.created_at, c.commitment_id) > ({}::timestamptz, {}::uuid)"


class PageWire(msgspec.Struct, frozen=True, kw_only=True):
    """A CommitmentPage on the wire, its items already JSON."""

    items: msgspec.Raw
    next_cursor: str | None
    evaluated_at: datetime


async def list_commitments(
    pool: asyncpg.Pool,
    filters: Filters,
    scope: Scope,
    moment: datetime,
    cursor: str | None,
    limit: int,
) -> bytes:
    """One page (a CommitmentPage as JSON) in (created_at, commitment_id) order, after cursor."""
    args = Args(moment)
    where = ["true"]
    for name in (
        "commitment_id",
        "owner_id",
        "requester_id",
        "forum_id",
        "organisation_id",
        "due_before",
        "due_after",
    ):
        if (value := getattr(filters, name)) is not None:
            where.append(PREDICATES[name].format(args.add(value)))
    if filters.purpose_id is not None:
        where.append(PREDICATES["purpose_id"].format(args.add(str(filters.purpose_id))))
    if filters.statuses is not None:
        where.append(PREDICATES["statuses"].format(args.add(list(filters.statuses))))
    if filters.overdue is not None:
        where.append(OVERDUE if filters.overdue else f"NOT coalesce({OVERDUE}, false)")
    if (visible := scope_predicate(scope, args)) is not None:
        where.append(visible)
    if cursor is not None:
        created_at, commitment_id = decode_cursor(cursor)
        where.append(AFTER.format(args.add(created_at), args.add(commitment_id)))
    sql = LIST.format(
        where=" AND ".join(where), limit=int(limit), overdue=OVERDUE, names=names_json()
    )
    rows = await pool.fetch(sql, *args.values)
    page = rows[:limit]
    next_cursor = encode_cursor(*page[-1][4:]) if len(rows) > limit else None
    items = ",".join(
        completed(item, name, overdue, spliced(names)) for item, name, overdue, names, *_ in page
    )
    wire = PageWire(
        items=msgspec.Raw(f"[{items}]".encode()), next_cursor=next_cursor, evaluated_at=moment
    )
    return msgspec.json.encode(wire)


def completed(item: str, forum_name: str | None, overdue: bool, more: str = "") -> str:
    """A stored item completed with its forum's name (already JSON; None for null), whether it
    is overdue, and any more members (JSON text starting with a comma)."""
    return (
        f'{item[:-1]},"forum_name":{forum_name or "null"},'
        f'"overdue":{"true" if overdue else "false"}{more}}}'
    )


def encode_cursor(created_at: datetime, commitment_id: UUID) -> str:
    """An opaque token for the position after this row."""
    return paging.encode([created_at, commitment_id])


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The row a cursor points after; 422 for anything this API did not hand out."""
    created_at, commitment_id = paging.decode(cursor, tuple[datetime, UUID])
    if created_at.tzinfo is None:
        raise InvalidValue("cursor", paging.NOT_OURS)
    return created_at, commitment_id
