"""The leader view: "my actions", grouped by what needs attention, with counts."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import PathParameter, QueryParameter

from projections.queries.leader_view import READS, LeaderCommitments, Options, leader_view
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.commitment_list import Statuses, statuses
from tracker.api.resources.common import COMMAND_ERRORS
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    json_body,
    scope_now,
)
from tracker.api.time_travel import ViewsDep
from tracker.application.errors import NotFound

# A bad filter, window, limit or cursor is a 422 naming the parameter.
ERRORS = VIEW_ERRORS | {422: COMMAND_ERRORS[422]}
Role = Literal["owner", "requester"]

DESCRIPTION = """\
A leader's commitments, each in exactly one group, checked in this order:

1. `awaiting_response`: waits for this leader (`awaiting` says what): a commitment proposed to
   them as owner (`proposal`), a handover offered to them (`handover`), and, as requester, a
   counter-offer (`counter_offer`), a proposed renegotiation (`renegotiation`) or a completion
   to acknowledge (`acknowledgement`);
2. `recently_finished`: finished (completed, acknowledged, released, cancelled, declined,
   withdrawn) within `finished_days`;
3. open (proposed or active) with no due date: `no_due_date`;
4. `overdue`: due before today;
5. `due_soon`: due today or within `due_soon_days` days;
6. `active`: due later than that.

Overdue and due-soon are computed at query time, never stored: "today" is the date in each
commitment's forum's time zone (default Europe/London) at `evaluated_at`; `today` lists the
date used per forum.

**Access**: the view lists only commitments in forums the caller may see. A leader sees items
in forums they belong to, so asking about another leader shows only the forums both share;
auditors and admins see all; integrations see the forums their token is limited to (all, if
it is not limited). 404 if the leader is unknown to the views.
"""


class LeaderViewController(Controller):
    """Read views of one leader's commitments."""

    path = "/leaders"
    tags = ("views",)

    @get(
        "/{leader_id:uuid}/commitments",
        operation_id="getLeaderCommitments",
        summary="A leader's actions: awaiting response, overdue, due soon, active, finished",
        description=DESCRIPTION,
        responses=ERRORS,
    )
    async def leader_commitments(
        self,
        leader_id: Annotated[UUID, PathParameter(description="The leader whose actions to show")],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        role: Annotated[
            Role | None,
            QueryParameter(
                description="Only commitments the leader owns (or is offered as a handover), "
                "or only those they requested; both when absent"
            ),
        ] = None,
        forum_id: Annotated[
            UUID | None, QueryParameter(description="Only commitments in this forum")
        ] = None,
        purpose_id: Annotated[
            UUID | None, QueryParameter(description="Only commitments citing this purpose")
        ] = None,
        status: Statuses = None,
        due_soon_days: Annotated[
            int,
            QueryParameter(
                description="Days ahead (after today) that count as due soon", ge=0, le=365
            ),
        ] = 14,
        finished_days: Annotated[
            int,
            QueryParameter(description="Days back that count as recently finished", ge=0, le=365),
        ] = 30,
        min_position: MinPosition = None,
    ) -> Response[LeaderCommitments]:
        """Group a leader's commitments by what needs attention now."""
        await consistent(state.pool, min_position, READS)
        options = Options(
            due_soon_days=due_soon_days,
            finished_days=finished_days,
            role=role,
            forum_id=forum_id,
            purpose_id=purpose_id,
            statuses=statuses(status),
        )
        # Decided before any replay, from the forums as they are now.
        scope = await scope_now(state.pool, principal, views.past)
        async with views.read() as read:
            view = await leader_view(read.pool, leader_id, read.now(), options, scope, read.cache)
        if view is None:
            raise NotFound("leader", leader_id)
        return json_body(view)
