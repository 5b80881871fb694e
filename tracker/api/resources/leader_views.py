"""The leader view: "my actions", grouped by what needs attention, with counts."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import PathParameter, QueryParameter

from projections.queries.leader_view import READS, LeaderCommitments, Options, leader_view
from projections.queries.paging import MAX_PAGE, PAGE
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
Group = Literal[
    "awaiting_response", "overdue", "due_soon", "active", "no_due_date", "recently_finished"
]

DESCRIPTION = f"""\
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

**A page of each group**: `counts` always holds how many commitments each group has in full;
each group lists at most `limit` of them (default {PAGE}, at most {MAX_PAGE}) in its own order
(`recently_finished`: latest finished first; the others: earliest due first, no due date last,
then oldest, then by id). `cursors` holds, per group, the cursor of its next page, or null when
the page listed is its last. Pass one back as `cursor` (with `group` set to its group, or
without `group`, and any `limit`) for that group's next page: then only that group is listed,
the other groups' lists are empty and their cursors null, while `counts` and `today` still
cover the whole view. `group` without a cursor lists that group's first page alone. Pages are
keyset-paginated, so paging while commitments change never repeats or skips one that stays in
its group. A cursor this API did not hand out, or one of another group than `group`, is a 422
naming `cursor`.

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
        limit: Annotated[
            int,
            QueryParameter(
                description=f"Commitments listed per group (at most {MAX_PAGE})",
                ge=1,
                le=MAX_PAGE,
            ),
        ] = PAGE,
        group: Annotated[
            Group | None,
            QueryParameter(description="List only this group (the group of `cursor`)"),
        ] = None,
        cursor: Annotated[
            str | None,
            QueryParameter(
                description="A group's cursor from `cursors`: that group's next page",
                max_length=400,
            ),
        ] = None,
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
            limit=limit,
            group=group,
            cursor=cursor,
        )
        # Decided before any replay, from the forums as they are now.
        scope = await scope_now(state.pool, principal, views.past)
        async with views.read() as read:
            view = await leader_view(read.pool, leader_id, read.now(), options, scope, read.cache)
        if view is None:
            raise NotFound("leader", leader_id)
        return json_body(view)
