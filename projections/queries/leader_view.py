"""The leader view: one leader's commitments, grouped by what needs their attention now.

Overdue and due-soon are worked out here, at query time, from each commitment's due date and
today's date in its forum's time zone: they are never stored, so replays stay deterministic.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.commitment_list import CommitmentItem
from projections.queries.sql import DEFAULT_TIMEZONE, Args, Scope, scope_predicate, utc

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


# The item's fields, in LeaderItem's order.
ITEM_FIELDS = (
    *(name for name in CommitmentItem.__struct_fields__),
    "role",
    "awaiting",
)
# Everything open, anything finished within the window, and completions still awaiting this
# requester: one bitmap OR of the owner, requester and handover indexes. The forum's time zone
# gives today's date, from which overdue and due soon are judged at query time.
MINE = f"""
SELECT c.commitment_id, c.forum_id, f.name AS forum_name, c.description, c.status, c.owner_id,
       c.owner_organisation_id, c.requester_id, c.handover_to, c.purpose_ids, c.made_on,
       c.due_on, c.original_due_on, c.renegotiation_count, c.progress,
       c.offered_terms IS NOT NULL AS counter_offer_pending,
       c.proposed_terms IS NOT NULL AS renegotiation_pending,
       c.meeting_id, c.created_at, c.updated_at, c.finished_at, c.version,
       t.timezone, t.today,
       CASE WHEN c.handover_to = $2 THEN 'handover'
            WHEN c.status = 'proposed' AND c.owner_id = $2 AND c.offered_terms IS NULL
                THEN 'proposal'
            WHEN c.requester_id = $2 AND c.status = 'proposed' AND c.offered_terms IS NOT NULL
                THEN 'counter_offer'
            WHEN c.requester_id = $2 AND c.status = 'active' AND c.proposed_terms IS NOT NULL
                THEN 'renegotiation'
            WHEN c.requester_id = $2 AND c.status = 'completed' THEN 'acknowledgement'
       END AS awaiting
FROM commitments c
LEFT JOIN forums f ON f.forum_id = c.forum_id
CROSS JOIN LATERAL (
    SELECT coalesce(f.timezone, '{DEFAULT_TIMEZONE}') AS timezone,
           ($1::timestamptz AT TIME ZONE coalesce(f.timezone, '{DEFAULT_TIMEZONE}'))::date AS today
) t
WHERE (c.owner_id = $2 OR c.requester_id = $2 OR c.handover_to = $2)
  AND (c.status IN ('proposed', 'active') OR c.finished_at >= $3
       OR (c.status = 'completed' AND c.requester_id = $2))
"""
# Each group's items as one JSON array, built where the rows are (recently finished latest
# first, the rest earliest due first), with its count, and the date each forum was judged by.
LEADER_VIEW = """
WITH mine AS MATERIALIZED ({mine}),
judged AS MATERIALIZED (
    SELECT m.forum_id, m.timezone, m.today, i,
           CASE WHEN m.awaiting IS NOT NULL THEN 'awaiting_response'
                WHEN m.status NOT IN ('proposed', 'active') THEN 'recently_finished'
                WHEN m.due_on IS NULL THEN 'no_due_date'
                WHEN m.due_on < m.today THEN 'overdue'
                WHEN m.due_on <= m.today + $4::integer THEN 'due_soon'
                ELSE 'active' END AS grp,
           CASE WHEN m.awaiting IS NULL AND m.status NOT IN ('proposed', 'active')
                THEN m.finished_at END AS finished_at,
           m.due_on, m.created_at, m.commitment_id
    FROM mine m CROSS JOIN LATERAL (SELECT {item}) i
)
SELECT EXISTS (SELECT 1 FROM leader_organisations WHERE leader_id = $2)
       OR EXISTS (SELECT 1 FROM commitments WHERE owner_id = $2) AS known,
       (SELECT coalesce(json_agg(d ORDER BY d.forum_id), '[]')
        FROM (SELECT DISTINCT forum_id, timezone, today FROM judged) d)::text AS today,
       g.names, g.counts, g.items
FROM (
    SELECT array_agg(grp) AS names, array_agg(n) AS counts, array_agg(items) AS items
    FROM (SELECT grp, count(*) AS n,
                 json_agg(i ORDER BY finished_at DESC, due_on, created_at, commitment_id)::text
                     AS items
          FROM judged GROUP BY grp) x
) g
"""
# How each item field is computed from a row of mine.
ITEM_SQL_OF = {
    "overdue": "coalesce(m.status IN ('proposed', 'active') AND m.due_on < m.today, false)",
    "role": "CASE WHEN m.owner_id = $2 THEN 'owner' WHEN m.handover_to = $2 THEN 'handover' "
    "ELSE 'requester' END",
}
TIMESTAMPS = ("created_at", "updated_at", "finished_at")


def _item_sql() -> str:
    """The item's fields from a row of mine, timestamps as RFC 3339 in UTC."""
    return ", ".join(
        f"{ITEM_SQL_OF[name]} AS {name}"
        if name in ITEM_SQL_OF
        else f"{utc('m.' + name)} AS {name}"
        if name in TIMESTAMPS
        else f"m.{name}"
        for name in ITEM_FIELDS
    )


ITEM_SQL = _item_sql()


class LeaderWire(msgspec.Struct, frozen=True, kw_only=True):
    """A LeaderCommitments on the wire, its lists already JSON."""

    leader_id: UUID
    evaluated_at: datetime
    due_soon_days: int
    finished_days: int
    today: msgspec.Raw
    counts: dict[str, int]
    groups: dict[str, msgspec.Raw]


EMPTY = msgspec.Raw(b"[]")


async def leader_view(
    pool: asyncpg.Pool, leader_id: UUID, moment: datetime, options: Options, scope: Scope
) -> bytes | None:
    """The view as JSON (a LeaderCommitments), or None for a leader the views do not know."""
    since = moment - timedelta(days=options.finished_days)
    args = Args(moment, leader_id, since, options.due_soon_days)
    where = [MINE]
    # Only the filters in use reach the planner.
    if options.role == OWNER:
        where.append("AND $2 IN (c.owner_id, c.handover_to)")
    elif options.role == REQUESTER:
        where.append("AND c.requester_id = $2")
    if options.forum_id is not None:
        where.append(f"AND c.forum_id = {args.add(options.forum_id)}::uuid")
    if options.purpose_id is not None:
        slot = args.add(str(options.purpose_id))
        where.append(f"AND c.purpose_ids @> (SELECT jsonb_build_array({slot}::text))")
    if options.statuses is not None:
        where.append(f"AND c.status = ANY({args.add(list(options.statuses))}::text[])")
    if (visible := scope_predicate(scope, args)) is not None:
        where.append(f"AND {visible}")
    sql = LEADER_VIEW.format(mine="\n".join(where), item=ITEM_SQL)
    row = await pool.fetchrow(sql, *args.values)
    assert row is not None  # aggregates always answer one row
    known, today, names, counts, items = row
    if not known:
        return None
    # No rows at all: the arrays are null.
    found = dict(zip(names or (), zip(counts or (), items or (), strict=True), strict=True))
    wire = LeaderWire(
        leader_id=leader_id,
        evaluated_at=moment,
        due_soon_days=options.due_soon_days,
        finished_days=options.finished_days,
        today=msgspec.Raw(today),
        counts={name: found[name][0] if name in found else 0 for name in GROUPS},
        groups={name: msgspec.Raw(found[name][1]) if name in found else EMPTY for name in GROUPS},
    )
    return msgspec.json.encode(wire)
