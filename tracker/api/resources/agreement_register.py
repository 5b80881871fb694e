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
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.purpose_views import ACCESS, VIEWS, not_found
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    require_forum_view,
)
from tracker.api.time_travel import ViewsDep

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
        "include=all lists proposed and rescinded agreements too." + ACCESS,
        responses=VIEW_ERRORS,
    )
    async def get_agreements_register(
        self,
        forum_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        include: IncludeParam = "in_force",
        min_position: MinPosition = None,
    ) -> AgreementsRegister:
        """Wait for min_position, check the forum and the caller, then read the register."""
        await consistent(state.pool, min_position, VIEWS)
        if not await forum_known(views.pool, forum_id):
            raise not_found("forum", forum_id)
        await require_forum_view(state.pool, principal, forum_id, "forum", forum_id)
        return await agreements_register(views.pool, forum_id, include)
