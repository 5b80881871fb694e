"""The commitment list: filtered, access-limited, keyset-paginated rows of the commitments view."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.commitment_fold import FINISHED, OPEN
from tracker.domain import InvalidValue

STATUSES = (*OPEN, *FINISHED)
DEFAULT_TIMEZONE = "Europe/London"


class CommitmentItem(msgspec.Struct, frozen=True, kw_only=True):
    """A commitment as the views list it; `overdue` is computed when queried, never stored."""

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

    owner_id: UUID | None = None
    requester_id: UUID | None = None
    purpose_id: UUID | None = None
    forum_id: UUID | None = None
    organisation_id: UUID | None = None
    statuses: tuple[str, ...] | None = None
    due_before: date | None = None
    due_after: date | None = None
    overdue: bool | None = None


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The forums a caller may see: a member's forums, a list of forums, or (both None) all."""

    member: UUID | None = None
    forum_ids: tuple[UUID, ...] | None = None


# Open and due before today in the forum's time zone; $1 is always the app clock's moment,
# never the database's, so tests (and "as of" reads) control it.
OVERDUE = f"""(c.status IN ('proposed', 'active') AND c.due_on <
    ($1::timestamptz AT TIME ZONE coalesce(f.timezone, '{DEFAULT_TIMEZONE}'))::date)"""
# The item's columns, shared with the leader view.
COLUMNS = f"""
c.commitment_id, c.forum_id, f.name AS forum_name, c.description, c.status, c.owner_id,
c.owner_organisation_id, c.requester_id, c.handover_to, c.purpose_ids, c.made_on, c.due_on,
c.original_due_on, c.renegotiation_count, c.progress,
c.offered_terms IS NOT NULL AS counter_offer_pending,
c.proposed_terms IS NOT NULL AS renegotiation_pending,
coalesce({OVERDUE}, false) AS overdue,
c.meeting_id, c.created_at, c.updated_at, c.finished_at, c.version
"""
LIST = f"""
SELECT {COLUMNS}
FROM commitments c LEFT JOIN forums f ON f.forum_id = c.forum_id
WHERE {{where}}
ORDER BY c.created_at, c.commitment_id
LIMIT {{limit}}
"""
# Each filter's predicate; {} is its parameter. The planner sees only the filters in use.
PREDICATES = {
    "owner_id": "c.owner_id = {}::uuid",
    "requester_id": "c.requester_id = {}::uuid",
    "purpose_id": "c.purpose_ids @> jsonb_build_array({}::text)",
    "forum_id": "c.forum_id = {}::uuid",
    "organisation_id": "c.owner_organisation_id = {}::uuid",
    "statuses": "c.status = ANY({}::text[])",
    "due_before": "c.due_on <= {}::date",
    "due_after": "c.due_on >= {}::date",
    # The caller's forums, looked up once (an InitPlan) and compared per row: cheaper than
    # joining forums.members row by row on the walk along the listing index.
    "member": "c.forum_id = ANY(ARRAY(SELECT forum_id FROM forums "
    "WHERE members @> jsonb_build_array({}::text)))",
    "forum_ids": "c.forum_id = ANY({}::uuid[])",
    "after": "(c.created_at, c.commitment_id) > ({}::timestamptz, {}::uuid)",
}


async def list_commitments(
    pool: asyncpg.Pool,
    filters: Filters,
    scope: Scope,
    moment: datetime,
    cursor: str | None,
    limit: int,
) -> CommitmentPage:
    """One page of commitments in (created_at, commitment_id) order, after the cursor."""
    args: list[object] = [moment]
    where = ["true"]

    def add(name: str, *values: object) -> None:
        slots = [f"${len(args) + i + 1}" for i in range(len(values))]
        args.extend(values)
        where.append(PREDICATES[name].format(*slots))

    for name in (
        "owner_id",
        "requester_id",
        "forum_id",
        "organisation_id",
        "due_before",
        "due_after",
    ):
        if (value := getattr(filters, name)) is not None:
            add(name, value)
    if filters.purpose_id is not None:
        add("purpose_id", str(filters.purpose_id))
    if filters.statuses is not None:
        add("statuses", list(filters.statuses))
    if filters.overdue is not None:
        where.append(OVERDUE if filters.overdue else f"NOT coalesce({OVERDUE}, false)")
    if scope.member is not None:
        add("member", str(scope.member))
    if scope.forum_ids is not None:
        add("forum_ids", list(scope.forum_ids))
    if cursor is not None:
        add("after", *decode_cursor(cursor))
    # One row more than asked says whether there is a next page.
    sql = LIST.format(where=" AND ".join(where), limit=limit + 1)
    rows = await pool.fetch(sql, *args)
    items = [msgspec.convert(dict(r), CommitmentItem) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if items else None
    next_cursor = encode_cursor(last.created_at, last.commitment_id) if more and last else None
    return CommitmentPage(items=items, next_cursor=next_cursor, evaluated_at=moment)


def encode_cursor(created_at: datetime, commitment_id: UUID) -> str:
    """An opaque token for the position after this row."""
    raw = msgspec.json.encode([created_at, commitment_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The row a cursor points after; 422 for anything this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, commitment_id = msgspec.json.decode(raw, type=tuple[datetime, UUID])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidValue("cursor", "not a cursor this API returned") from None
    if created_at.tzinfo is None:
        raise InvalidValue("cursor", "not a cursor this API returned")
    return created_at, commitment_id
