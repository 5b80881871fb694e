"""What every view endpoint shares: read-your-writes waits, access by forum, documented errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate
from litestar import Response
from litestar.datastructures import State
from litestar.params import QueryParameter

from projections.consistency import applied, place, wait_until
from projections.queries.sql import Scope
from tracker.api.problems import Refused, problem
from tracker.api.resources.common import READ_ERRORS, problem_response
from tracker.application import reads
from tracker.application.errors import NotFound
from tracker.application.principal import Principal
from tracker.database import MAX_BIGINT
from tracker.domain import InvalidValue

VIEW_ERRORS = READ_ERRORS | {
    403: problem_response("A rule refuses this caller; `rule` names it"),
    404: problem_response("No such resource, or one of a forum the caller may not see"),
    429: problem_response(
        "This token already has its share of view reads under way in this process "
        "(`TRACKER_VIEW_READS_PER_TOKEN`), or more than 20 failed "
        "authentications came from this address within 10 s; retry after Retry-After seconds"
    ),
    503: problem_response(
        "The view has not reached min_position yet (`not-yet-visible`), took longer than its "
        "time limit and was cancelled (`view-timeout`: `TRACKER_VIEW_TIMEOUT_SECONDS` per query), "
        "has not reached an as_of among the newest events within `TRACKER_AS_OF_WAIT_SECONDS` "
        "(`behind`), or the database could not be reached; retry after Retry-After seconds"
    ),
}
MIN_POSITION = (
    "Wait (up to 2 s) until the view includes the event at this global position, "
    "as returned by a command; 503 with Retry-After if it does not in time."
)
# Positions start at 1: anything lower names no event, and is refused rather than waited for;
# anything above a bigint could not be one either.
MinPosition = Annotated[int | None, QueryParameter(description=MIN_POSITION, ge=1, le=MAX_BIGINT)]
FORUM_MEMBERS = "SELECT members FROM forums WHERE forum_id = $1"
MEMBER_FORUMS = """
SELECT coalesce(array_agg(forum_id), '{}') FROM forums
WHERE members @> (SELECT jsonb_build_array($1::text))
"""


async def consistent(pool: asyncpg.Pool, min_position: int | None, names: Sequence[str]) -> None:
    """Wait until the named projections have applied min_position, or refuse with 503; a
    position no event has (a made-up one, or a gap left by a rolled-back append) can never be
    reached, and is refused at once (422)."""
    if min_position is None:
        return
    at = await place(pool, min_position)
    if at is None:
        raise InvalidValue("min_position", "no event has this position")
    if await applied(pool, at, names) or await wait_until(pool, min_position, names):
        return
    raise Refused(
        problem(
            503,
            "not-yet-visible",
            "View not yet current",
            f"the view has not reached position {min_position} yet",
        ),
        headers={"Retry-After": "1"},
    )


async def require_forum_view(
    pool: asyncpg.Pool, principal: Principal, forum_id: UUID, kind: str, key: UUID
) -> None:
    """Refuse, as the unknown `kind` `key`, unless the caller may see this forum's views, by its
    members as the views know."""
    await reads.require_forum_view(_members(pool), principal, forum_id, NotFound(kind, key))


async def require_view_now(
    state: State, principal: Principal, cls: type[Aggregate], resource_id: UUID
) -> None:
    """Before a past view's replay: refuse, as an unknown id, unless the caller may see the views
    of the forum the resource belongs to now; 404 for an id that does not exist."""
    await reads.require_view_of(state.repository, _members(state.pool), principal, cls, resource_id)


def _members(pool: asyncpg.Pool) -> reads.ForumMembers:
    """A forum's members as the live views know them."""

    async def members(forum_id: UUID) -> list[UUID]:
        found = await pool.fetchval(FORUM_MEMBERS, forum_id)
        return [UUID(m) for m in found or []]

    return members


def scope_of(principal: Principal) -> Scope:
    """The forums this caller may see, as the queries' filter."""
    visible = reads.visible(principal)
    return Scope(member=visible.member, forum_ids=visible.forum_ids)


async def scope_now(pool: asyncpg.Pool, principal: Principal, past: bool) -> Scope:
    """scope_of; for a past view, a member's forums as they are now, read before the replay.

    Access to the past is judged by today's membership, as for single resources: a leader who
    left a forum no longer sees its commitments, in the present or the past.
    """
    scope = scope_of(principal)
    if not past or scope.member is None:
        return scope
    forum_ids = await pool.fetchval(MEMBER_FORUMS, str(scope.member))
    return Scope(forum_ids=tuple(forum_ids))


def json_body(body: bytes) -> Response[Any]:
    """A view the database already rendered as JSON, sent as it is."""
    # The handler's declared Response[SomeView] documents the shape; nothing re-encodes it.
    return Response(content=body, media_type="application/json")
