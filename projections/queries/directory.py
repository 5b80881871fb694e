"""The directory lists: organisations, leaders and forums by name, access-limited, keyset-paged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import paging
from projections.queries.directory_structs import (
    DirectoryForum,
    DirectoryLeader,
    DirectoryOrganisation,
    ForumFilters,
    ForumPage,
    LeaderFilters,
    LeaderPage,
    OrganisationFilters,
    OrganisationPage,
)
from projections.queries.sql import Args
from tracker.application import bounds
from tracker.application.directory import Sight
from tracker.domain import InvalidValue

T = TypeVar("T")

# A leader's latest current affiliations, each with its organisation's name, oldest first;
# then how many there are. The name is a lookup by key: as a join, the planner hashed every
# organisation once per leader listed (2.5 ms of a 3 ms first page at 300 organisations).
AFFILIATIONS = f"""(
SELECT coalesce(jsonb_agg(a || jsonb_build_object('organisation_name', (
    SELECT o.name FROM directory_organisations o
    WHERE o.organisation_id = (a ->> 'organisation_id')::uuid)) ORDER BY n), '[]')
FROM jsonb_array_elements(l.affiliations) WITH ORDINALITY AS x(a, n)
WHERE n > jsonb_array_length(l.affiliations) - {bounds.AFFILIATIONS}
) AS affiliations, jsonb_array_length(l.affiliations) AS affiliations_total"""
ORGANISATIONS = """
SELECT o.organisation_id, o.name, o.kind, o.status, o.successor_id, s.name AS successor_name,
       o.registered_at, lower(o.name) AS sort_name
FROM directory_organisations o
LEFT JOIN directory_organisations s ON s.organisation_id = o.successor_id
WHERE {where}
ORDER BY lower(o.name), o.organisation_id
LIMIT {limit} + 1
"""
LEADERS = f"""
SELECT l.leader_id, l.name, CASE WHEN {{email_seen}} THEN l.email END AS email,
       l.status, l.registered_at,
       {AFFILIATIONS}, lower(l.name) AS sort_name
FROM directory_leaders l
WHERE {{where}}
ORDER BY lower(l.name), l.leader_id
LIMIT {{limit}} + 1
"""
FORUMS = """
SELECT f.forum_id, f.name, f.timezone, f.convened_at,
       (SELECT count(*) FROM directory_members m WHERE m.forum_id = f.forum_id) AS member_count,
       lower(f.name) AS sort_name
FROM directory_forums f
WHERE {where}
ORDER BY lower(f.name), f.forum_id
LIMIT {limit} + 1
"""
# Whether a steward sees a leader's email: their own, or a member's of a forum they steward.
STEWARD_SEES = """(l.leader_id = {me}::uuid OR EXISTS (
    SELECT 1 FROM directory_members s JOIN directory_members t USING (forum_id)
    WHERE s.leader_id = {me}::uuid AND s.roles @> '["steward"]' AND t.leader_id = l.leader_id))"""
# The forums a leader belongs to now, and those forums' members.
MY_FORUMS = "SELECT forum_id FROM directory_members WHERE leader_id = {}::uuid"
MEMBERS_OF = "SELECT leader_id FROM directory_members WHERE forum_id = ANY({})"
# Leaders among a set of ids, as an array rather than IN (subquery): given IN, the planner walks
# the name index over every leader and filters (7 ms at 10,000 leaders, against 1.3 ms).
AMONG = "l.leader_id = ANY(ARRAY({}))"
PREFIX = "starts_with(lower({column}), lower({}))"
AFTER = "(lower({column}), {id}) > ({}::text, {}::uuid)"


async def list_organisations(
    pool: asyncpg.Pool, filters: OrganisationFilters, cursor: str | None, limit: int
) -> OrganisationPage:
    """One page of organisations in (lower(name), id) order, after cursor; everyone sees all."""
    args, where = Args(), ["true"]
    if filters.organisation_id is not None:
        where.append(f"o.organisation_id = {args.add(filters.organisation_id)}::uuid")
    if filters.name is not None:
        where.append(PREFIX.format(args.add(filters.name), column="o.name"))
    if filters.status is not None:
        where.append(f"o.status = {args.add(filters.status)}")
    where += _after(cursor, args, "o.name", "o.organisation_id")
    rows = await pool.fetch(
        ORGANISATIONS.format(where=" AND ".join(where), limit=int(limit)), *args.values
    )
    items, next_cursor = _page(rows, limit, DirectoryOrganisation, "o")
    return OrganisationPage(items=items, next_cursor=next_cursor)


async def list_leaders(
    pool: asyncpg.Pool, filters: LeaderFilters, scope: Sight, cursor: str | None, limit: int
) -> LeaderPage:
    """One page of the leaders the scope shows, in (lower(name), id) order, after cursor.

    A member sees the members of their forums and themselves; a list of forums shows those
    forums' members; a list of leaders (a past read's) shows those. A forum filter outside the
    scope finds nothing.
    """
    args, where = Args(), ["true"]
    if filters.leader_id is not None:
        where.append(f"l.leader_id = {args.add(filters.leader_id)}::uuid")
    if filters.organisation_id is not None:
        org = args.add(str(filters.organisation_id))
        where.append(
            f"l.affiliations @> (SELECT jsonb_build_array(jsonb_build_object('organisation_id', "
            f"{org}::text)))"
        )
    if filters.forum_id is not None:
        where.append(_forum_members(filters.forum_id, scope, args))
    if filters.name is not None:
        where.append(PREFIX.format(args.add(filters.name), column="l.name"))
    email_seen = _email_seen(scope, args)
    if filters.email is not None:
        # Only among the emails the caller sees: a search must not confirm a hidden one.
        where.append(f"lower(l.email) = lower({args.add(filters.email)}) AND {email_seen}")
    if scope.leader_ids is not None:
        where.append(f"l.leader_id = ANY({args.add(list(scope.leader_ids))}::uuid[])")
    elif scope.member is not None:
        me = args.add(scope.member)
        mine = MEMBERS_OF.format(f"ARRAY({MY_FORUMS.format(me)})")
        where.append(AMONG.format(f"SELECT {me}::uuid UNION ALL {mine}"))
    elif scope.forum_ids is not None:
        where.append(AMONG.format(MEMBERS_OF.format(_ids(scope, args))))
    where += _after(cursor, args, "l.name", "l.leader_id")
    sql = LEADERS.format(where=" AND ".join(where), limit=int(limit), email_seen=email_seen)
    rows = await pool.fetch(sql, *args.values)
    items, next_cursor = _page(rows, limit, DirectoryLeader, "l")
    return LeaderPage(items=items, next_cursor=next_cursor)


async def list_forums(
    pool: asyncpg.Pool, filters: ForumFilters, scope: Sight, cursor: str | None, limit: int
) -> ForumPage:
    """One page of the forums the scope shows, in (lower(name), id) order, after cursor."""
    args, where = Args(), ["true"]
    if filters.forum_id is not None:
        where.append(f"f.forum_id = {args.add(filters.forum_id)}::uuid")
    if filters.name is not None:
        where.append(PREFIX.format(args.add(filters.name), column="f.name"))
    if scope.member is not None:
        where.append(f"f.forum_id IN ({MY_FORUMS.format(args.add(scope.member))})")
    elif scope.forum_ids is not None:
        where.append(f"f.forum_id = ANY({_ids(scope, args)})")
    where += _after(cursor, args, "f.name", "f.forum_id")
    rows = await pool.fetch(
        FORUMS.format(where=" AND ".join(where), limit=int(limit)), *args.values
    )
    items, next_cursor = _page(rows, limit, DirectoryForum, "f")
    return ForumPage(items=items, next_cursor=next_cursor)


def _forum_members(forum_id: UUID, scope: Sight, args: Args) -> str:
    """The members of one forum, or none unless the scope shows that forum."""
    forum = args.add(forum_id)
    members = AMONG.format(MEMBERS_OF.format(f"ARRAY[{forum}::uuid]"))
    if scope.member is not None:
        return f"{members} AND {forum}::uuid IN ({MY_FORUMS.format(args.add(scope.member))})"
    if scope.forum_ids is not None:
        return f"{members} AND {forum}::uuid = ANY({_ids(scope, args)})"
    return members


def _email_seen(scope: Sight, args: Args) -> str:
    """Whether the caller sees a leader's email, as a predicate on l."""
    if scope.all_emails:
        return "true"
    if scope.email_ids is not None:
        return f"l.leader_id = ANY({args.add(list(scope.email_ids))}::uuid[])"
    if scope.steward is None:
        return "false"
    return STEWARD_SEES.format(me=args.add(scope.steward))


def _ids(scope: Sight, args: Args) -> str:
    return f"{args.add(list(scope.forum_ids or ()))}::uuid[]"


def _after(cursor: str | None, args: Args, column: str, id_column: str) -> list[str]:
    """The keyset predicate for the rows after the cursor's, if there is one."""
    if cursor is None:
        return []
    name, key = decode_cursor(cursor, column.split(".")[0])
    return [AFTER.format(args.add(name), args.add(key), column=column, id=id_column)]


def _page(
    rows: Sequence[asyncpg.Record], limit: int, kind: type[T], table: str
) -> tuple[list[T], str | None]:
    """The items of a page, and the cursor after its last row if another row follows."""
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(table, last["sort_name"], last[0])
    return [_item(r, kind) for r in page], next_cursor


def _item(row: asyncpg.Record, kind: type[T]) -> T:
    fields: dict[str, Any] = dict(row)
    del fields["sort_name"]
    return msgspec.convert(fields, kind, from_attributes=False, strict=False)


def encode_cursor(table: str, sort_name: str, key: UUID) -> str:
    """An opaque token for the position after this row of one list (named by its table's alias
    in the query, so that a cursor of another list is refused)."""
    return paging.encode([table, sort_name, key])


def decode_cursor(cursor: str, table: str) -> tuple[str, UUID]:
    """The row of this list a cursor points after; 422 naming `cursor` for anything this API
    did not hand out for this list."""
    of, name, key = paging.decode(cursor, tuple[str, str, UUID])
    if of != table:
        raise InvalidValue("cursor", paging.NOT_OURS)
    return name, key
