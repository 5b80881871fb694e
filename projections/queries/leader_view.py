"""The leader view: one leader's commitments, grouped by what needs their attention now.

Overdue and due-soon are worked out at query time, in SQL, from each commitment's due date and
today's date in its forum's time zone: they are never stored, so replays stay deterministic.
Counts cover every commitment; each group lists one page, cut in the database, so neither the
database's answer nor this process's memory grows with the leader's total.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from projections.commitment_view import CommitmentViews
from projections.governance_view import GovernanceViews
from projections.queries import paging
from projections.queries.cache import Fresh, ViewCache
from projections.queries.commitment_list import completed
from projections.queries.leader_view_sql import STATEMENT, after
from projections.queries.leader_view_structs import (
    GROUPS,
    CursorKey,
    ForumToday,
    LeaderCommitments,
    LeaderHead,
    LeaderItem,
    LeaderRest,
    Options,
)
from projections.queries.names import spliced
from projections.queries.sql import Args, Scope, scope_predicate
from tracker.domain import InvalidValue

__all__ = ["GROUPS", "READS", "LeaderCommitments", "LeaderItem", "Options", "leader_view"]

MICROSECOND = timedelta(microseconds=1)  # PostgreSQL's time resolution
# The projections whose tables the view reads (purposes' statements and meetings' titles are
# the governance views').
READS = (CommitmentViews.name, GovernanceViews.name)
OWNER, REQUESTER = "owner", "requester"
AWAITS = ("handover", "proposal", "counter_offer", "renegotiation", "acknowledgement")
AWAITING_JSON = {None: "null"} | {awaiting: f'"{awaiting}"' for awaiting in AWAITS}


async def leader_view(
    pool: asyncpg.Pool,
    leader_id: UUID,
    moment: datetime,
    options: Options,
    scope: Scope,
    cache: ViewCache | None = None,
) -> bytes | None:
    """The view as JSON (a LeaderCommitments), or None for a leader the views do not know."""
    if options.cursor is not None:
        # Refused before anything is read; a cursor alone names its group.
        name = cursor_key(options.cursor, options.group)[0]
        options = msgspec.structs.replace(options, group=name)

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
    window = timedelta(days=options.finished_days)
    listed = list(GROUPS) if options.group is None else [options.group]
    args = Args(leader_id, moment - window, options.due_soon_days, moment, listed, options.limit)
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
    past = "true"
    if options.cursor is not None:
        _, finished, due_on, created_at, commitment_id = cursor_key(options.cursor, options.group)
        slots = [args.add(v) for v in (due_on, created_at, commitment_id)]
        past = after(None if finished is None else args.add(finished), *slots)
    sql = STATEMENT.format(filters="\n      ".join(filters), after=past)
    rows = await pool.fetch(sql, *args.values)
    if not rows[0]["n"]:
        return None
    return render(moment, options, rows[1:])


def cursor_key(cursor: str, group: str | None) -> CursorKey:
    """The row a cursor points after, refused (422) unless it is one of the asked group's."""
    key: CursorKey = paging.decode(cursor, CursorKey)
    name, finished, _, created_at, _ = key
    if (
        name not in GROUPS
        or (finished is None) == (name == "recently_finished")
        or created_at.tzinfo is None
        or (finished is not None and finished.tzinfo is None)
    ):
        raise InvalidValue("cursor", paging.NOT_OURS)
    if group is not None and name != group:
        raise InvalidValue("cursor", f"a cursor of {name}, not of {group}")
    return key


def render(moment: datetime, options: Options, rows: list[asyncpg.Record]) -> Fresh[bytes]:
    """Counts, forums' dates and pages from the statement's rows, as JSON, with when the view
    next changes by time alone."""
    window = timedelta(days=options.finished_days)
    counts = dict.fromkeys(GROUPS, 0)
    items: dict[str, list[str]] = {name: [] for name in GROUPS}
    cursors: dict[str, str | None] = dict.fromkeys(GROUPS)
    judged: dict[str, ForumToday] = {}
    changes_at: datetime | None = None
    for row in rows:
        name = row["grp"]
        if row["part"] == 0:
            counts[name] += row["n"]
            forum_id = row["forum_id"]
            if forum_id not in judged:
                judged[forum_id] = ForumToday(
                    forum_id=UUID(forum_id), timezone=row["zone"], today=row["today"]
                )
                # Overdue and due-soon change at midnight where each forum meets.
                changes_at = earliest(changes_at, row["midnight"])
            # It is listed while finished >= moment - window: the first moment past that, it
            # leaves.
            if (finished := row["finished_at"]) is not None:
                changes_at = earliest(changes_at, finished + window + MICROSECOND)
        elif row["k"] <= options.limit:
            more = f',"role":"{row["role"]}","awaiting":{AWAITING_JSON[row["awaiting"]]}'
            more += spliced(row["names"])
            items[name].append(completed(row["item"], row["forum_name"], row["overdue"], more))
            if row["k"] == options.limit:
                last = row
        else:
            finished = last["finished_at"] if name == "recently_finished" else None
            cursors[name] = paging.encode(
                [name, finished, last["due_on"], last["created_at"], last["commitment_id"]]
            )
    rest = msgspec.json.encode(
        LeaderRest(
            due_soon_days=options.due_soon_days,
            finished_days=options.finished_days,
            today=sorted(judged.values(), key=lambda t: t.forum_id),
            counts=counts,
            limit=options.limit,
            group=options.group,
            cursors=cursors,
            groups={
                name: msgspec.Raw(f"[{','.join(listed)}]".encode())
                for name, listed in items.items()
            },
        )
    )
    return Fresh(rest, len(rest), changes_at)


def earliest(first: datetime | None, second: datetime) -> datetime:
    """The earlier of two moments, the first of which may be unknown."""
    return second if first is None else min(first, second)
