"""What a caller sees of the directory now, as explicit ids: how a past list is limited.

A list as of a past cut reads past memberships; who the caller may see there is decided by
today's, as for every other view as of a cut, so it is read from the live tables first.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from tracker.application.directory import Sight

MY_FORUMS = "SELECT coalesce(array_agg(forum_id), '{}') FROM directory_members WHERE leader_id = $1"
# The members of some forums, and one more leader (the caller, who sees themselves).
MEMBERS = """
SELECT coalesce(array_agg(DISTINCT leader_id), '{}') FROM (
    SELECT leader_id FROM directory_members WHERE forum_id = ANY($1::uuid[])
    UNION ALL SELECT $2::uuid WHERE $2::uuid IS NOT NULL
) m
"""
# A steward's own email, and those of the members of the forums they steward.
STEWARDED = """
SELECT coalesce(array_agg(DISTINCT leader_id), '{}') FROM (
    SELECT t.leader_id FROM directory_members s JOIN directory_members t USING (forum_id)
    WHERE s.leader_id = $1 AND s.roles @> '["steward"]'
    UNION ALL SELECT $1::uuid
) m
"""


async def seen_now(pool: asyncpg.Pool, sight: Sight) -> Sight:
    """The sight with its forums, leaders and emails fixed to today's ids (all: left open)."""
    if sight.member is None and sight.forum_ids is None:
        return sight
    forum_ids = sight.forum_ids
    if sight.member is not None:
        forum_ids = tuple(await pool.fetchval(MY_FORUMS, sight.member))
    leader_ids = await pool.fetchval(MEMBERS, list(forum_ids or ()), sight.member)
    email_ids = None
    if not sight.all_emails:
        email_ids = () if sight.steward is None else await pool.fetchval(STEWARDED, sight.steward)
    return Sight(
        forum_ids=forum_ids,
        all_emails=sight.all_emails,
        leader_ids=tuple(leader_ids),
        email_ids=tuple(email_ids) if email_ids is not None else None,
    )


async def forums_now(pool: asyncpg.Pool, leader_id: UUID) -> tuple[UUID, ...]:
    """The forums a leader belongs to now."""
    return tuple(await pool.fetchval(MY_FORUMS, leader_id))
