"""The purpose view: a purpose with its endorsements, commitments, progress and agreements."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from projections.queries.paging import MAX_PAGE, PAGE
from projections.queries.purpose_view import READS, purpose_view
from projections.queries.purpose_view_structs import PurposeView
from tracker.api.dependencies import PrincipalDep
from tracker.api.problems import Refused, problem
from tracker.api.resources.common import COMMAND_ERRORS
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    json_body,
    require_view_now,
)
from tracker.api.time_travel import ViewsDep
from tracker.application import bounds, reads
from tracker.application.errors import NotFound
from tracker.domain import Purpose

VIEWS = READS  # the meeting view and the agreements register read the same projections
ACCESS = (
    " Leaders see views of forums they belong to; auditors and admins see all; "
    "integrations see the forums their token is limited to."
)


DESCRIPTION = f"""\
What a partnership needs at a glance: the statement and its revisions, endorsements (with each
leader's affiliation when they endorsed), how many commitments cite the purpose in each status
(`status_counts`, lifecycle order), contributing leaders and organisations (owners who
promised: active or finished after accepting), a progress roll-up (`overdue` judged today in
the forum's time zone; `mean_progress` over active commitments that reported), the agreements
in force for the purpose or its forum, and the last activity.

**Commitments, a page at a time**: `commitments.items` holds the first `limit` commitments
citing the purpose (default 50, at most 200), oldest first (`created_at`, then id). When there
are more, `commitments.next_cursor` is set: pass it back as `cursor` (with the same `limit`, or
another) for the next page; it is null on the last page. The rest of the document is the same
on every page. A cursor this API did not hand out is a 422.

**Other lists, bounded**: each lists at most a fixed number, and `totals` counts it in full.
`revisions`: the latest {bounds.REVISIONS}, oldest first (all of them: the purpose's stream,
`/streams/{{purpose_id}}/events`). `endorsements`: the latest {bounds.ENDORSEMENTS}, in the
order given (all: the stream). `contributors` and `organisations`, and
`no_longer_pursued.leaders` and `.organisations`: the {bounds.CONTRIBUTORS} with the most
commitments (all: the owners and organisations of the paged `commitments`).
`agreements_in_force`: the {bounds.AGREEMENTS_IN_FORCE} adopted last, in order of adoption
(all: the forum's register, `/forums/{{forum_id}}/agreements`).
"""


def not_found(kind: str, key: UUID) -> Refused:
    """404 for an id the views do not know."""
    return Refused(problem(404, "not-found", "Not found", f"{kind} {key} not found"))


class PurposeViewController(Controller):
    """Read views of purposes."""

    path = "/purposes"
    tags = ("views",)

    @get(
        "/{purpose_id:uuid}/view",
        operation_id="getPurposeView",
        summary="View a purpose: revisions, endorsements, commitments, progress, agreements",
        description=DESCRIPTION + ACCESS,
        responses=VIEW_ERRORS | {422: COMMAND_ERRORS[422]},
    )
    async def get_purpose_view(
        self,
        purpose_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        min_position: MinPosition = None,
        cursor: Annotated[
            str | None,
            QueryParameter(description="commitments.next_cursor from the previous page"),
        ] = None,
        limit: Annotated[
            int,
            QueryParameter(
                description=f"Commitments per page (at most {MAX_PAGE})", ge=1, le=MAX_PAGE
            ),
        ] = PAGE,
    ) -> Response[PurposeView]:
        """Wait for min_position, then read the view and check the caller may see its forum."""
        await consistent(state.pool, min_position, VIEWS)
        if views.past:
            # Access to the past is judged by today's membership, before the replay.
            await require_view_now(state, principal, Purpose, purpose_id)
        caller = reads.viewing_leader(principal)
        async with views.read() as read:
            view = await purpose_view(
                read.pool, purpose_id, read.now, caller, cursor, limit, read.cache
            )
        if view is None:
            raise not_found("purpose", purpose_id)
        if not views.past:
            # The view's own query said whether the caller belongs to the forum.
            unknown = NotFound("purpose", purpose_id)
            reads.require_view(principal, view.forum_id, view.caller_is_member, unknown)
        return json_body(view.body)
