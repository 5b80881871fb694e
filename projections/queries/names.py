"""The names the views show beside a commitment's ids, looked up when read so a rename shows
in every view at once (and a view `as_of` a past moment shows the names of then)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.sql import utc


class PurposeName(msgspec.Struct, frozen=True, kw_only=True):
    """A purpose a commitment cites, with its current statement (null if the views lack it)."""

    purpose_id: UUID
    statement: str | None


class CommitmentNames(msgspec.Struct, frozen=True, kw_only=True):
    """Display names of the people, organisation, purposes and meeting a commitment names."""

    owner_name: str | None
    owner_organisation_name: str | None
    owner_role: str | None
    requester_name: str | None
    handover_to_name: str | None
    purposes: list[PurposeName]
    meeting_title: str | None
    meeting_starts_at: datetime | None


def leader_name(column: str) -> str:
    """A leader's display name for a leader id column (NULL for none)."""
    return f"(SELECT n.name FROM leader_organisations n WHERE n.leader_id = {column})"


def organisation_name(column: str) -> str:
    """An organisation's display name for an organisation id column (NULL for none)."""
    return f"(SELECT n.name FROM organisations n WHERE n.organisation_id = {column})"


def role_in(leader: str, organisation: str) -> str:
    """The title of the leader's most recently begun role with the organisation, if any."""
    return (
        f"(SELECT a->>1 FROM leader_organisations n, jsonb_array_elements(n.affiliations) a "
        f"WHERE n.leader_id = {leader} AND a->>0 = {organisation}::text "
        "ORDER BY a->>2 DESC LIMIT 1)"
    )


def line_names(c: str = "c") -> str:
    """Select-list items naming a commitment line's owner, the owner's organisation and role
    there, and its requester, for the commitments row aliased c."""
    return (
        f"{leader_name(f'{c}.owner_id')} AS owner_name, "
        f"{organisation_name(f'{c}.owner_organisation_id')} AS owner_organisation_name, "
        f"{role_in(f'{c}.owner_id', f'{c}.owner_organisation_id')} AS owner_role, "
        f"{leader_name(f'{c}.requester_id')} AS requester_name"
    )


# A leader's actor string as the log records it; cast only when it is one, so others never fail.
LEADER_ACTOR = "^leader:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def actor_name(column: str) -> str:
    """The name to show for an actor column: a leader's display name (`leader:<id>`), anyone
    else's the name after the kind (`integration:<name>`), as a commitment's history shows it."""
    return (
        f"(CASE WHEN {column} ~* '{LEADER_ACTOR}' "
        f"THEN {leader_name(f'substr({column}, 8)::uuid')} "
        f"ELSE coalesce(nullif(substr({column}, strpos({column}, ':') + 1), ''), "
        f"split_part({column}, ':', 1)) END)"
    )


def names_json(c: str = "c") -> str:
    """A JSON object (text) of CommitmentNames for the commitments row aliased c."""
    # One subquery per row listed, its lookups by primary key; only a page's rows run it. Each
    # purpose's statement too: joined instead, the planner hashed every purpose for each row
    # listed, most of a leader view's time live and past (16 and 32 ms of the busy leader's).
    return f"""(SELECT json_build_object(
    'owner_name', o.name,
    'owner_organisation_name', {organisation_name(f"{c}.owner_organisation_id")},
    'owner_role', {role_in(f"{c}.owner_id", f"{c}.owner_organisation_id")},
    'requester_name', {leader_name(f"{c}.requester_id")},
    'handover_to_name', {leader_name(f"{c}.handover_to")},
    'purposes', (SELECT coalesce(json_agg(json_build_object(
            'purpose_id', x.id,
            'statement', (SELECT p.statement FROM purposes p WHERE p.purpose_id = x.id::uuid))
            ORDER BY x.n), '[]')
        FROM jsonb_array_elements_text({c}.purpose_ids) WITH ORDINALITY x(id, n)),
    'meeting_title', m.title,
    'meeting_starts_at', {utc("m.starts_at")})::text
    FROM (SELECT) one
    LEFT JOIN leader_organisations o ON o.leader_id = {c}.owner_id
    LEFT JOIN meetings m ON m.meeting_id = {c}.meeting_id)"""


def spliced(names: str | None) -> str:
    """The members of a names object (JSON text) as more members: a leading comma, no braces."""
    return "" if names is None else f",{names[1:-1]}"


# The names for one commitment read from its own stream; its owner's organisation is the
# commitment views' (the organisation on the day it was made).
NAMES_OF_ONE = f"""
SELECT {names_json()} AS names,
       (SELECT f.name FROM forums f WHERE f.forum_id = c.forum_id) AS forum_name,
       {leader_name("c.made_by")} AS made_by_name,
       c.owner_organisation_id
FROM (SELECT $1::uuid AS forum_id, $2::uuid AS owner_id, $3::uuid AS requester_id,
             $4::uuid AS handover_to, $5::uuid AS made_by, $6::jsonb AS purpose_ids,
             $7::uuid AS meeting_id,
             (SELECT o.owner_organisation_id FROM commitments o WHERE o.commitment_id = $8)
                 AS owner_organisation_id) c
"""


class OneCommitmentNames(CommitmentNames, frozen=True, kw_only=True):
    """The names for one commitment: CommitmentNames, its forum's and its maker's."""

    forum_name: str | None
    made_by_name: str | None
    owner_organisation_id: UUID | None


NO_NAMES = OneCommitmentNames(
    owner_name=None,
    owner_organisation_name=None,
    owner_role=None,
    requester_name=None,
    handover_to_name=None,
    purposes=[],
    meeting_title=None,
    meeting_starts_at=None,
    forum_name=None,
    made_by_name=None,
    owner_organisation_id=None,
)


async def names_of_one(
    pool: asyncpg.Pool,
    commitment_id: UUID,
    forum_id: UUID,
    people: tuple[UUID, UUID | None, UUID | None, UUID | None],
    purpose_ids: list[UUID],
    meeting_id: UUID | None,
) -> OneCommitmentNames:
    """Names for a commitment's ids; people are its owner, requester, handover and maker."""
    purposes = [str(p) for p in purpose_ids]
    row = await pool.fetchrow(NAMES_OF_ONE, forum_id, *people, purposes, meeting_id, commitment_id)
    assert row is not None
    names = msgspec.json.decode(row["names"])
    return msgspec.convert(
        {
            **names,
            "forum_name": row["forum_name"],
            "made_by_name": row["made_by_name"],
            "owner_organisation_id": row["owner_organisation_id"],
        },
        OneCommitmentNames,
    )


LEADER_NAMES = (
    "SELECT leader_id::text, name FROM leader_organisations WHERE leader_id = ANY($1::uuid[])"
)


async def leader_names(pool: asyncpg.Pool, leader_ids: set[UUID]) -> dict[str, str]:
    """The current display names of these leaders, by id as text (those the views know)."""
    if not leader_ids:
        return {}
    return {row[0]: row[1] for row in await pool.fetch(LEADER_NAMES, list(leader_ids))}


# The display names of whatever a batch of events mentions, each table by primary key: leaders,
# forums, purposes (their statement), meetings (their title) and organisations.
NAMES_OF_IDS = """
SELECT leader_id::text, name FROM leader_organisations WHERE leader_id = ANY($1::uuid[])
UNION ALL SELECT forum_id::text, name FROM forums WHERE forum_id = ANY($1::uuid[])
UNION ALL SELECT purpose_id::text, statement FROM purposes WHERE purpose_id = ANY($1::uuid[])
UNION ALL SELECT meeting_id::text, title FROM meetings WHERE meeting_id = ANY($1::uuid[])
UNION ALL SELECT organisation_id::text, name FROM organisations
    WHERE organisation_id = ANY($1::uuid[])
"""


async def names_of_ids(db: asyncpg.Pool | asyncpg.Connection, ids: set[UUID]) -> dict[str, str]:
    """The current display names of these ids, by id as text (those the views know)."""
    if not ids:
        return {}
    return {row[0]: row[1] for row in await db.fetch(NAMES_OF_IDS, list(ids))}
