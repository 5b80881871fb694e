"""The purpose view: a purpose, who endorses it, the commitments citing it and how they go."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.commitment_fold import FINISHED, OPEN
from projections.commitment_view import CommitmentViews
from projections.governance_view import GovernanceViews
from projections.queries.cache import Fresh, ViewCache
from projections.queries.commitment_list import decode_cursor, encode_cursor
from projections.queries.names import leader_name, line_names, organisation_name
from projections.queries.paging import PAGE
from projections.queries.purpose_names import named
from projections.queries.purpose_roll_ups import roll_ups
from projections.queries.purpose_view_structs import (
    CommitmentLine,
    ContributingOrganisation,
    NoLongerPursued,
    PurposeContributor,
    PurposeTotals,
)
from projections.queries.sql import DEFAULT_TIMEZONE, OPEN_SQL, utc
from tracker.application.bounds import AGREEMENTS_IN_FORCE, CONTRIBUTORS, ENDORSEMENTS, REVISIONS
from tracker.application.clock import Now

# The projections whose tables the view reads: the governance views own purposes, meetings and
# agreements; the commitment views own commitments and the forums access is checked against.
READS = (GovernanceViews.name, CommitmentViews.name)
# Lifecycle order, so groups read the same way every time.
STATUSES = (*OPEN, *FINISHED)
# Only live and finished work contributes; work given up is counted apart, and a commitment still
# only proposed is neither.
CONTRIBUTING = ("active", "completed", "acknowledged")
NO_LONGER_PURSUED = ("released", "declined", "withdrawn", "cancelled")

STATUS_RANKS = ", ".join(f"('{status}', {rank})" for rank, status in enumerate(STATUSES))
COUNTED_SQL = ", ".join(f"'{status}'" for status in (*CONTRIBUTING, *NO_LONGER_PURSUED))
DROPPED_SQL = ", ".join(f"'{status}'" for status in NO_LONGER_PURSUED)
LINE_FIELDS = ", ".join(
    f"{utc('c.' + name)} AS {name}" if name == "updated_at" else f"c.{name}"
    for name in CommitmentLine.__struct_fields__
)
# The names beside a listed line's ids, looked up for the page's rows only.
LINE_NAMES = line_names()
# The whole view in one statement, rendered as JSON where the rows are: the purpose, its
# forum's date for overdue and whether the caller belongs to the forum; one pass over the
# commitments citing it (its purpose_commitments rows, together in key order) for the counts,
# contributors and roll-up; and one page of them in (created_at, commitment_id) order after
# the cursor.
PURPOSE_VIEW = f"""
WITH p AS MATERIALIZED (
    SELECT p.*, coalesce(f.members @> jsonb_build_array($3::text), false) AS caller_is_member,
           ($2::timestamptz AT TIME ZONE coalesce(f.timezone, '{DEFAULT_TIMEZONE}'))::date AS today,
           coalesce(f.timezone, '{DEFAULT_TIMEZONE}') AS timezone
    FROM purposes p LEFT JOIN forums f ON f.forum_id = p.forum_id
    WHERE p.purpose_id = $1
),
c AS MATERIALIZED (
    SELECT c.commitment_id, c.description, c.status, c.owner_id, c.owner_organisation_id,
           c.requester_id, c.due_on, c.progress, c.meeting_id, c.updated_at, c.created_at,
           coalesce(c.status IN ({OPEN_SQL}) AND c.due_on < (SELECT today FROM p), false)
               AS overdue
    FROM purpose_commitments c
    WHERE c.purpose_id = $1 AND EXISTS (SELECT FROM p)
),
-- The page is cut with a bounded sort (top-N) before it is numbered: numbering first would sort
-- every commitment of the purpose in full.
page AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY c.created_at, c.commitment_id) AS n,
           c.created_at, c.commitment_id, (SELECT i FROM (SELECT /*line*/) i) AS item
    FROM (SELECT * FROM c WHERE /*after*/
          ORDER BY c.created_at, c.commitment_id LIMIT $4::integer + 1) c
),
-- One pass for the counts, the roll-up and the last activity: a row per status.
by_status AS MATERIALIZED (
    SELECT status, count(*) AS n, count(*) FILTER (WHERE overdue) AS overdue,
           count(progress) AS reporting, sum(progress) AS progress, max(updated_at) AS updated_at
    FROM c GROUP BY status
),
-- Owner and organisation pairs, counted apart for work contributed and work no longer pursued:
-- who_contributes() groups them.
promised AS MATERIALIZED (
    SELECT owner_id, owner_organisation_id, c.status IN ({DROPPED_SQL}) AS dropped, count(*) AS n
    FROM c WHERE c.status IN ({COUNTED_SQL})
    GROUP BY owner_id, owner_organisation_id, dropped
),
in_force AS MATERIALIZED (
    SELECT a.* FROM agreements a, p
    WHERE a.status = 'adopted' AND ((a.scope = 'purpose' AND a.scope_id = $1)
                                    OR (a.scope = 'forum' AND a.scope_id = p.forum_id))
)
SELECT p.forum_id, p.caller_is_member, w.owners, w.dropped, w.owner_names, w.organisation_names,
       coalesce(jsonb_array_length(p.revisions), 0) AS revisions,
       (SELECT count(*) FROM purpose_endorsements WHERE purpose_id = $1) AS endorsements,
       (SELECT count(*) FROM in_force) AS agreements_in_force,
       ((p.today + 1)::timestamp AT TIME ZONE p.timezone) AS changes_at, w.organisations, w.counts,
       (SELECT count(*) FROM page) > $4::integer AS more,
       (SELECT created_at FROM page WHERE n = $4::integer) AS last_created_at,
       (SELECT commitment_id FROM page WHERE n = $4::integer) AS last_commitment_id,
       (SELECT coalesce(json_agg(item ORDER BY n), '[]') FROM page WHERE n <= $4::integer)::text
           AS items,
       json_build_object(
    'purpose_id', p.purpose_id,
    'forum_id', p.forum_id,
    'forum_name', (SELECT f.name FROM forums f WHERE f.forum_id = p.forum_id),
    'statement', p.statement,
    'original_statement', p.original_statement,
    'status', p.status,
    'decision_rule', p.decision_rule,
    'adopted_meeting_id', p.adopted_meeting_id,
    'adopted_meeting_title', (SELECT m.title FROM meetings m
                              WHERE m.meeting_id = p.adopted_meeting_id),
    'adopted_meeting_starts_at', (SELECT {utc("m.starts_at")} FROM meetings m
                                  WHERE m.meeting_id = p.adopted_meeting_id),
    'proposed_by', p.proposed_by,
    'proposed_by_name', {leader_name("p.proposed_by")},
    'proposed_at', {utc("p.proposed_at")},
    'revisions', (
        SELECT coalesce(json_agg(json_build_object(
            'statement', r.value->'statement', 'reason', r.value->'reason', 'by', r.value->'by',
            'by_name', {leader_name("(r.value->>'by')::uuid")},
            'at', {utc("(r.value->>'at')::timestamptz")}) ORDER BY r.ordinality), '[]')
        FROM (SELECT * FROM jsonb_array_elements(p.revisions) WITH ORDINALITY r(value, ordinality)
              ORDER BY r.ordinality DESC LIMIT {REVISIONS}) r),
    'endorsements', (
        SELECT coalesce(json_agg(json_build_object(
            'leader_id', e.leader_id,
            'leader_name', {leader_name("e.leader_id")},
            'affiliation', CASE WHEN nullif(e.affiliation, 'null') IS NOT NULL THEN
                json_build_object('organisation_id', e.affiliation->'organisation_id',
                                  'organisation_name', e.affiliation->'organisation_name',
                                  'title', e.affiliation->'title') END,
            'endorsed_at', {utc("e.endorsed_at")}) ORDER BY e.endorsed_at, e.leader_id), '[]')
        FROM (SELECT * FROM purpose_endorsements e WHERE e.purpose_id = $1
              ORDER BY e.endorsed_at DESC, e.leader_id DESC LIMIT {ENDORSEMENTS}) e),
    'status_counts', (
        SELECT coalesce(json_agg(json_build_object('status', s.status, 'count', s.n)
                                 ORDER BY o.rank), '[]')
        FROM by_status s JOIN (VALUES {STATUS_RANKS}) o(status, rank) ON o.status = s.status),
    'progress', (
        SELECT json_build_object(
            'total', coalesce(sum(n), 0),
            'open', coalesce(sum(n) FILTER (WHERE status IN ({OPEN_SQL})), 0),
            'finished', coalesce(sum(n) FILTER (WHERE status NOT IN ({OPEN_SQL})), 0),
            'completed', coalesce(sum(n) FILTER (WHERE status IN ('completed', 'acknowledged')), 0),
            'released', coalesce(sum(n) FILTER (WHERE status = 'released'), 0),
            'overdue', coalesce(sum(overdue), 0),
            'reporting', coalesce(sum(reporting) FILTER (WHERE status = 'active'), 0),
            'mean_progress', round(sum(progress) FILTER (WHERE status = 'active')
                                   / nullif(sum(reporting) FILTER (WHERE status = 'active'), 0), 1))
        FROM by_status),
    'agreements_in_force', (
        SELECT coalesce(json_agg(json_build_object(
            'agreement_id', a.agreement_id, 'scope', a.scope, 'kind', a.kind, 'title', a.title,
            'text', a.text, 'decision_rule', a.decision_rule,
            'adopted_meeting_id', a.adopted_meeting_id,
            'adopted_meeting_title', (SELECT m.title FROM meetings m
                                      WHERE m.meeting_id = a.adopted_meeting_id),
            'adopted_at', {utc("a.adopted_at")})
            ORDER BY a.adopted_at, a.agreement_id), '[]')
        FROM (SELECT * FROM in_force a
              ORDER BY a.adopted_at DESC, a.agreement_id DESC LIMIT {AGREEMENTS_IN_FORCE}) a),
    'last_activity', {utc("greatest(p.last_activity, (SELECT max(updated_at) FROM by_status))")}
)::text AS head
FROM p
-- Who promised what, as three arrays: the contributor roll-ups are put together in Python.
CROSS JOIN LATERAL (
    SELECT array_agg(owner_id) AS owners, array_agg(owner_organisation_id) AS organisations,
           array_agg(n) AS counts, array_agg(dropped) AS dropped,
           array_agg({leader_name("owner_id")}) AS owner_names,
           array_agg({organisation_name("owner_organisation_id")}) AS organisation_names
    FROM promised
) w
"""
AFTER = "(c.created_at, c.commitment_id) > ($5::timestamptz, $6::uuid)"


class PurposeViewAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The view as JSON, with what the access check needs."""

    forum_id: UUID
    caller_is_member: bool
    body: bytes


class PageWire(msgspec.Struct, frozen=True, kw_only=True):
    """A CommitmentLinePage on the wire, its items already JSON."""

    items: msgspec.Raw
    next_cursor: str | None


async def purpose_view(
    pool: asyncpg.Pool,
    purpose_id: UUID,
    now: Now,
    caller: UUID | None = None,
    cursor: str | None = None,
    limit: int = PAGE,
    cache: ViewCache | None = None,
) -> PurposeViewAnswer | None:
    """The purpose view (a PurposeView as JSON), or None for a purpose the view does not know."""
    moment = now()

    def compute() -> Awaitable[Fresh[PurposeViewAnswer] | None]:
        return computed(pool, purpose_id, moment, caller, cursor, limit)

    if cache is not None:
        key = ("purpose", purpose_id, caller, cursor, limit)
        return await cache.view(key, moment, compute, READS)
    fresh = await compute()
    return None if fresh is None else fresh.value


async def computed(
    pool: asyncpg.Pool,
    purpose_id: UUID,
    moment: datetime,
    caller: UUID | None,
    cursor: str | None,
    limit: int,
) -> Fresh[PurposeViewAnswer] | None:
    """The view at moment, and when it next changes by time alone (the forum's midnight)."""
    args: list[object] = [purpose_id, moment, None if caller is None else str(caller), limit]
    after = "true"
    if cursor is not None:
        args.extend(decode_cursor(cursor))
        after = AFTER
    line = f"{LINE_FIELDS}, {LINE_NAMES}"
    sql = PURPOSE_VIEW.replace("/*line*/", line).replace("/*after*/", after)
    row = await pool.fetchrow(sql, *args)
    if row is None:
        return None
    more = row["more"]
    page = PageWire(
        items=msgspec.Raw(row["items"]),
        next_cursor=(
            encode_cursor(row["last_created_at"], row["last_commitment_id"]) if more else None
        ),
    )
    contributors, organisations, no_longer = named(roll_ups(row), row)
    # The head is a JSON object; the rest go in as its last members.
    head: str = row["head"]
    totals = PurposeTotals(
        revisions=row["revisions"],
        endorsements=row["endorsements"],
        contributors=len(contributors),
        organisations=len(organisations),
        no_longer_pursued_leaders=len(no_longer.leaders),
        no_longer_pursued_organisations=len(no_longer.organisations),
        agreements_in_force=row["agreements_in_force"],
    )
    rest = Rest(
        totals=totals,
        contributors=contributors[:CONTRIBUTORS],
        organisations=organisations[:CONTRIBUTORS],
        no_longer_pursued=no_longer.capped(CONTRIBUTORS),
        commitments=page,
    )
    body = b"".join((head[:-1].encode(), b",", msgspec.json.encode(rest)[1:]))
    answer = PurposeViewAnswer(
        forum_id=row["forum_id"], caller_is_member=row["caller_is_member"], body=body
    )
    return Fresh(answer, len(body), row["changes_at"])


class Rest(msgspec.Struct, frozen=True, kw_only=True):
    """The members of the view put together here rather than in SQL."""

    totals: PurposeTotals
    contributors: list[PurposeContributor]
    organisations: list[ContributingOrganisation]
    no_longer_pursued: NoLongerPursued
    commitments: PageWire
