"""GET /me's read of the directory: the leader a token acts as, and an integration's forums."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.directory import AFFILIATIONS
from projections.queries.directory_structs import ForumName, Me, MyForum, MyLeader
from tracker.application import bounds
from tracker.application.principal import INTEGRATION, Principal

LEADER = f"""
SELECT l.leader_id, l.name, l.email, l.status, {AFFILIATIONS}
FROM directory_leaders l WHERE l.leader_id = $1
"""
# The first forums by name then id, as the forum list orders them, and how many there are.
FORUMS = f"""
SELECT m.forum_id, f.name, m.roles, count(*) OVER () AS total
FROM directory_members m LEFT JOIN directory_forums f USING (forum_id)
WHERE m.leader_id = $1 AND ($2::uuid[] IS NULL OR m.forum_id = ANY($2::uuid[]))
ORDER BY lower(f.name), m.forum_id
LIMIT {bounds.FORUMS}
"""
NAMED = """
SELECT k.forum_id, f.name
FROM unnest($1::uuid[]) AS k(forum_id) LEFT JOIN directory_forums f USING (forum_id)
ORDER BY lower(f.name), k.forum_id
"""


async def me(
    pool: asyncpg.Pool,
    principal: Principal,
    expires_at: datetime | None,
    forums_now: tuple[UUID, ...] | None = None,
) -> Me:
    """The caller as the directory knows them; as of a past cut, forums_now are the only forums
    a leader's may be (those they belong to now: no one sees a forum's past they cannot see)."""
    limit = None
    if principal.kind == INTEGRATION and principal.forum_ids is not None:
        rows = await pool.fetch(NAMED, list(principal.forum_ids))
        limit = [ForumName(forum_id=r[0], name=r[1]) for r in rows]
    leader_id = principal.leader_id
    return Me(
        kind=principal.kind,
        name=principal.name,
        token_id=principal.token_id,
        expires_at=expires_at,
        leader_id=leader_id,
        leader=None if leader_id is None else await _leader(pool, leader_id, forums_now),
        forum_limit=limit,
    )


async def _leader(
    pool: asyncpg.Pool, leader_id: UUID, forums_now: tuple[UUID, ...] | None
) -> MyLeader | None:
    row = await pool.fetchrow(LEADER, leader_id)
    if row is None:
        return None
    now = None if forums_now is None else list(forums_now)
    rows = await pool.fetch(FORUMS, leader_id, now)
    forums = [MyForum(forum_id=r[0], name=r[1], roles=r[2]) for r in rows]
    total = rows[0]["total"] if rows else 0
    fields = {**dict(row), "forums": forums, "forums_total": total}
    return msgspec.convert(fields, MyLeader, strict=False)
