"""What every view endpoint shares: read-your-writes waits, access by forum, documented errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Response
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
    503: problem_response(
        "The view has not reached min_position yet, or the database could not be reached; "
        "retry after Retry-After seconds"
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

    async def members(forum_id: UUID) -> list[UUID]:
        found = await pool.fetchval(FORUM_MEMBERS, forum_id)
        return [UUID(m) for m in found or []]

    await reads.require_forum_view(members, principal, forum_id, NotFound(kind, key))


def scope_of(principal: Principal) -> Scope:
    """The forums this caller may see, as the queries' filter."""
    visible = reads.visible(principal)
    return Scope(member=visible.member, forum_ids=visible.forum_ids)


def json_body(body: bytes) -> Response[Any]:
    """A view the database already rendered as JSON, sent as it is."""
    # The handler's declared Response[SomeView] documents the shape; nothing re-encodes it.
    return Response(content=body, media_type="application/json")
