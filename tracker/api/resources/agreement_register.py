"""The agreements register of a forum and its purposes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from projections.queries.agreements_register import (
    AgreementsRegister,
    Include,
    agreements_register,
    forum_known,
)
from projections.queries.paging import MAX_PAGE, PAGE
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.purpose_views import ACCESS, VIEWS, not_found
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    require_forum_view,
    require_view_now,
)
from tracker.api.time_travel import ViewsDep
from tracker.application.bounds import AMENDMENTS
from tracker.domain import Forum

IncludeParam = Annotated[
    Include,
    QueryParameter(description="in_force (default): adopted agreements; all: every status"),
]


class AgreementRegisterController(Controller):
    """Read views of forums' agreements."""

    path = "/forums"
    tags = ("views",)

    @get(
        "/{forum_id:uuid}/agreements",
        operation_id="getAgreementsRegister",
        summary="List the agreements in force for a forum and its purposes",
        description="Each with its decision rule, adoption meeting and amendments; "
        "include=all lists proposed and rescinded agreements too. Ordered by scope, kind, "
        "adoption (never adopted last), proposal and id, a page at a time: at most `limit` "
        f"agreements (default {PAGE}, at most {MAX_PAGE}); `total` counts them all; pass "
        "`next_cursor` back as `cursor` (with the same `include`) for the next page (null on "
        "the last page). A cursor this API did not hand out is a 422 naming `cursor`. Each "
        f"agreement's `amendments` are its latest {AMENDMENTS}, oldest first, and "
        "`amendments_total` counts them all (all of them: the agreement's stream, "
        "`/streams/{agreement_id}/events`)." + ACCESS,
        responses=VIEW_ERRORS,
    )
    async def get_agreements_register(
        self,
        forum_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        include: IncludeParam = "in_force",
        cursor: Annotated[
            str | None,
            QueryParameter(description="next_cursor of the previous page", max_length=400),
        ] = None,
        limit: Annotated[
            int,
            QueryParameter(
                description=f"Agreements per page (at most {MAX_PAGE})", ge=1, le=MAX_PAGE
            ),
        ] = PAGE,
        min_position: MinPosition = None,
    ) -> AgreementsRegister:
        """Wait for min_position, check the forum and the caller, then read the register."""
        await consistent(state.pool, min_position, VIEWS)
        if views.past:
            # Access to the past is judged by today's membership, before the replay.
            await require_view_now(state, principal, Forum, forum_id)
        async with views.read() as read:
            if not await forum_known(read.pool, forum_id):
                raise not_found("forum", forum_id)
            if not views.past:
                await require_forum_view(state.pool, principal, forum_id, "forum", forum_id)
            return await agreements_register(read.pool, forum_id, include, cursor, limit)
