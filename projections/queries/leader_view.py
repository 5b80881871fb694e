"""The leader view: one leader's commitments, grouped by what needs their attention now.

Overdue and due-soon are worked out here, at query time, from each commitment's due date and
today's date in its forum's time zone: they are never stored, so replays stay deterministic.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from projections.commitment_fold import OPEN
from projections.commitment_view import CommitmentViews
from projections.queries.cache import Fresh, ViewCache
from projections.queries.commitment_list import CommitmentItem, completed
from projections.queries.sql import DEFAULT_TIMEZONE, OPEN_SQL, Args, Scope, scope_predicate

MICROSECOND = timedelta(microseconds=1)  # PostgreSQL's time resolution
READS = (CommitmentViews.name,)  # the projections whose tables the view reads
GROUPS = ("awaiting_response", "overdue", "due_soon", "active", "no_due_date", "recently_finished")
OWNER, REQUESTER = "owner", "requester"
AWAITS = ("handover", "proposal", "counter_offer", "renegotiation", "acknowledgement")
AWAITING_JSON = {None: "null"} | {awaiting: f'"{awaiting}"' for awaiting in AWAITS}


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


# Whether the leader is known (affiliated, or owning anything) and, beside that, each commitment
# of theirs that is open, finished within the window, or a completion still awaiting them as
# requester: one bitmap OR of the owner, requester and handover indexes. Each row brings its
# stored item and what only this leader and this moment decide (what it awaits from them, their
# role); rows come in the groups' order (latest finished first, then earliest due, oldest, id),
# so that splitting them into groups keeps each group in order.
MINE = f"""
SELECT k.known, m.item, m.forum_name, m.forum_id, m.timezone, m.status, m.due_on, m.awaiting,
       m.role, m.finished_at
FROM (SELECT EXISTS (SELECT 1 FROM leader_organisations WHERE leader_id = $1)
             OR EXISTS (SELECT 1 FROM commitments WHERE owner_id = $1) AS known) k
LEFT JOIN LATERAL (
    SELECT c.item, to_json(f.name)::text AS forum_name, c.forum_id::text, f.timezone, c.status,
           c.due_on, a.awaiting, c.finished_at,
           CASE WHEN c.owner_id = $1 THEN 'owner' WHEN c.handover_to = $1 THEN 'handover'
                ELSE 'requester' END AS role,
           row_number() OVER (ORDER BY
               CASE WHEN a.awaiting IS NULL AND c.status NOT IN ({OPEN_SQL})
                    THEN c.finished_at END DESC,
               c.due_on, c.created_at, c.commitment_id) AS n
    FROM commitments c
    LEFT JOIN forums f ON f.forum_id = c.forum_id
    CROSS JOIN LATERAL (SELECT
        CASE WHEN c.handover_to = $1 THEN 'handover'
             WHEN c.status = 'proposed' AND c.owner_id = $1 AND c.offered_terms IS NULL
                 THEN 'proposal'
             WHEN c.requester_id = $1 AND c.status = 'proposed' AND c.offered_terms IS NOT NULL
                 THEN 'counter_offer'
             WHEN c.requester_id = $1 AND c.status = 'active' AND c.proposed_terms IS NOT NULL
                 THEN 'renegotiation'
             WHEN c.requester_id = $1 AND c.status = 'completed' THEN 'acknowledgement'
        END AS awaiting) a
    WHERE (c.owner_id = $1 OR c.requester_id = $1 OR c.handover_to = $1)
      AND (c.status IN ({OPEN_SQL}) OR c.finished_at >= $2
           OR (c.status = 'completed' AND c.requester_id = $1))
      {{filters}}
) m ON true
ORDER BY m.n
"""


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
    groups: dict[str, msgspec.Raw]


async def leader_view(
    pool: asyncpg.Pool,
    leader_id: UUID,
    moment: datetime,
    options: Options,
    scope: Scope,
    cache: ViewCache | None = None,
) -> bytes | None:
    """The view as JSON (a LeaderCommitments), or None for a leader the views do not know."""

    def compute() -> Awaitable[Fresh[bytes] | None]:
        return computed(pool, leader_id, moment, options, scope)

    if cache is None:
        fresh = await compute()
        rest = None if fresh is None else fresh.value
    else:
        rest = await cache.view(("leader", leader_id, options, scope), moment, compute, READS)
    if rest is None:
        return None
    head = msgspec.json.encode(LeaderHead(leader_id=leader_id, evaluated_at=moment))
    return b"".join((head[:-1], b",", rest[1:]))


async def computed(
    pool: asyncpg.Pool, leader_id: UUID, moment: datetime, options: Options, scope: Scope
) -> Fresh[bytes] | None:
    """All but the head of the view, as JSON, and when it next changes by time alone."""
    args = Args(leader_id, moment - timedelta(days=options.finished_days))
    filters = []
    # Only the filters in use reach the planner.
    if options.role == OWNER:
        filters.append("AND $1 IN (c.owner_id, c.handover_to)")
    elif options.role == REQUESTER:
        filters.append("AND c.requester_id = $1")
    if options.forum_id is not None:
        filters.append(f"AND c.forum_id = {args.add(options.forum_id)}::uuid")
    if options.purpose_id is not None:
        slot = args.add(str(options.purpose_id))
        filters.append(f"AND c.purpose_ids @> (SELECT jsonb_build_array({slot}::text))")
    if options.statuses is not None:
        filters.append(f"AND c.status = ANY({args.add(list(options.statuses))}::text[])")
    if (visible := scope_predicate(scope, args)) is not None:
        filters.append(f"AND {visible}")
    rows = await pool.fetch(MINE.format(filters="\n      ".join(filters)), *args.values)
    if not rows[0][0]:
        return None
    return group(moment, options, rows if rows[0][1] is not None else [])


def forum_today(forum_id: UUID, timezone: str | None, moment: datetime) -> ForumToday:
    """The local date at moment where a forum meets (the default zone for an unknown forum)."""
    zone = timezone or DEFAULT_TIMEZONE
    return ForumToday(
        forum_id=forum_id, timezone=zone, today=moment.astimezone(ZoneInfo(zone)).date()
    )


def group(moment: datetime, options: Options, rows: list[asyncpg.Record]) -> Fresh[bytes]:
    """Put each row in exactly one group, judged by today's date in its forum; JSON out."""
    soon = timedelta(days=options.due_soon_days)
    window = timedelta(days=options.finished_days)
    groups: dict[str, list[str]] = {name: [] for name in GROUPS}
    judged: dict[str, ForumToday] = {}  # by forum id as text: cheaper to hash than a UUID
    changes_at: datetime | None = None  # a finished commitment leaves the window
    for _, item, forum_name, forum_id, timezone, status, due_on, awaiting, role, finished in rows:
        if (forum := judged.get(forum_id)) is None:
            forum = judged[forum_id] = forum_today(UUID(forum_id), timezone, moment)
        today = forum.today
        overdue = due_on is not None and due_on < today and status in OPEN
        if awaiting is not None:
            name = "awaiting_response"
        elif status not in OPEN:
            name = "recently_finished"
        elif due_on is None:
            name = "no_due_date"
        elif overdue:
            name = "overdue"
        elif due_on <= today + soon:
            name = "due_soon"
        else:
            name = "active"
        more = f',"role":"{role}","awaiting":{AWAITING_JSON[awaiting]}'
        groups[name].append(completed(item, forum_name, overdue, more))
        # It is listed while finished >= moment - window: the first moment past that, it leaves.
        if finished is not None and moment < (leaves := finished + window + MICROSECOND):
            changes_at = leaves if changes_at is None else min(changes_at, leaves)
    # Overdue and due-soon change at midnight where each forum meets.
    for forum in judged.values():
        midnight = next_midnight(forum)
        changes_at = midnight if changes_at is None else min(changes_at, midnight)
    rest = msgspec.json.encode(
        LeaderRest(
            due_soon_days=options.due_soon_days,
            finished_days=options.finished_days,
            today=sorted(judged.values(), key=lambda t: t.forum_id),
            counts={name: len(items) for name, items in groups.items()},
            groups={
                name: msgspec.Raw(f"[{','.join(items)}]".encode()) for name, items in groups.items()
            },
        )
    )
    return Fresh(rest, len(rest), changes_at)


def next_midnight(forum: ForumToday) -> datetime:
    """The instant the forum's date next turns over."""
    # In a zone whose clocks skip midnight, the missing 00:00 resolves to the instant of the jump.
    return datetime.combine(forum.today + timedelta(days=1), time(), ZoneInfo(forum.timezone))
