"""The leader view: one leader's commitments, grouped by what needs their attention now.

Overdue and due-soon are worked out here, at query time, from each commitment's due date and
today's date in its forum's time zone: they are never stored, so replays stay deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from projections.commitment_fold import OPEN
from projections.queries.commitment_list import COLUMNS, DEFAULT_TIMEZONE, CommitmentItem
from tracker.application.clock import today_in

GROUPS = ("awaiting_response", "overdue", "due_soon", "active", "no_due_date", "recently_finished")
OWNER, REQUESTER = "owner", "requester"


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
    """Every commitment in exactly one group, earliest due first."""

    awaiting_response: list[LeaderItem]
    overdue: list[LeaderItem]
    due_soon: list[LeaderItem]
    active: list[LeaderItem]
    no_due_date: list[LeaderItem]
    recently_finished: list[LeaderItem]


class LeaderCommitments(msgspec.Struct, frozen=True, kw_only=True):
    """A leader's actions, as of evaluated_at."""

    leader_id: UUID
    evaluated_at: datetime
    due_soon_days: int
    finished_days: int
    today: list[ForumToday]
    counts: GroupCounts
    groups: LeaderGroups


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's window sizes and filters; None means no filter."""

    due_soon_days: int = 14
    finished_days: int = 30
    role: str | None = None
    forum_id: UUID | None = None
    purpose_id: UUID | None = None
    statuses: tuple[str, ...] | None = None


# One indexed query (owner, requester and handover indexes, OR-ed as a bitmap): everything open,
# anything finished within the window, and completions still awaiting this requester.
LEADER_ROWS = f"""
SELECT {COLUMNS}, coalesce(f.timezone, '{DEFAULT_TIMEZONE}') AS timezone,
       coalesce(f.members @> jsonb_build_array($4::text), false) AS caller_is_member
FROM commitments c LEFT JOIN forums f ON f.forum_id = c.forum_id
WHERE (c.owner_id = $2 OR c.requester_id = $2 OR c.handover_to = $2)
  AND (c.status IN ('proposed', 'active') OR c.finished_at >= $3
       OR (c.status = 'completed' AND c.requester_id = $2))
"""
LEADER_KNOWN = "SELECT 1 FROM leader_organisations WHERE leader_id = $1"


async def leader_rows(
    pool: asyncpg.Pool, leader_id: UUID, moment: datetime, options: Options, caller: UUID | None
) -> list[asyncpg.Record] | None:
    """The rows the view is built from, or None for a leader the views have never heard of."""
    since = moment - timedelta(days=options.finished_days)
    rows = await pool.fetch(LEADER_ROWS, moment, leader_id, since, str(caller) if caller else None)
    if not rows and await pool.fetchval(LEADER_KNOWN, leader_id) is None:
        return None
    return list(rows)


def awaiting(row: Any, me: UUID) -> str | None:
    """What the commitment waits for this leader to do, if anything."""
    if row["handover_to"] == me:
        return "handover"
    if row["status"] == "proposed" and row["owner_id"] == me and not row["counter_offer_pending"]:
        return "proposal"
    if row["requester_id"] == me:
        if row["status"] == "proposed" and row["counter_offer_pending"]:
            return "counter_offer"
        if row["status"] == "active" and row["renegotiation_pending"]:
            return "renegotiation"
        if row["status"] == "completed":
            return "acknowledgement"
    return None


def _wanted(row: Any, me: UUID, options: Options) -> bool:
    if options.role == OWNER and me not in (row["owner_id"], row["handover_to"]):
        return False
    if options.role == REQUESTER and row["requester_id"] != me:
        return False
    if options.forum_id is not None and row["forum_id"] != options.forum_id:
        return False
    if options.purpose_id is not None and str(options.purpose_id) not in row["purpose_ids"]:
        return False
    return options.statuses is None or row["status"] in options.statuses


def build(
    rows: Sequence[Any],
    me: UUID,
    moment: datetime,
    options: Options,
) -> LeaderCommitments:
    """Group the rows: awaiting first, then finished, no date, overdue, due soon, active."""
    todays: dict[UUID, ForumToday] = {}
    groups: dict[str, list[LeaderItem]] = {name: [] for name in GROUPS}
    for row in rows:
        if not _wanted(row, me, options):
            continue
        forum = todays.get(row["forum_id"])
        if forum is None:
            today = today_in(lambda: moment, row["timezone"])
            forum = ForumToday(forum_id=row["forum_id"], timezone=row["timezone"], today=today)
            todays[forum.forum_id] = forum
        wants = awaiting(row, me)
        due: date | None = row["due_on"]
        is_open = row["status"] in OPEN
        overdue = is_open and due is not None and due < forum.today
        if wants is not None:
            group = "awaiting_response"
        elif not is_open:
            group = "recently_finished"
        elif due is None:
            group = "no_due_date"
        elif overdue:
            group = "overdue"
        elif due <= forum.today + timedelta(days=options.due_soon_days):
            group = "due_soon"
        else:
            group = "active"
        role = OWNER if row["owner_id"] == me else "handover" if wants == "handover" else REQUESTER
        fields = dict(row) | {"overdue": overdue, "role": role, "awaiting": wants}
        del fields["timezone"], fields["caller_is_member"]
        groups[group].append(msgspec.convert(fields, LeaderItem))
    for name, items in groups.items():
        if name == "recently_finished":
            items.sort(key=lambda i: i.finished_at or moment, reverse=True)
        else:
            items.sort(key=lambda i: (i.due_on or date.max, i.created_at, i.commitment_id))
    return LeaderCommitments(
        leader_id=me,
        evaluated_at=moment,
        due_soon_days=options.due_soon_days,
        finished_days=options.finished_days,
        today=sorted(todays.values(), key=lambda f: str(f.forum_id)),
        counts=GroupCounts(**{name: len(items) for name, items in groups.items()}),
        groups=LeaderGroups(**groups),
    )
