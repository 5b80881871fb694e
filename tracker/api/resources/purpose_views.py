"""The purpose view: a purpose with its endorsements, commitments, progress and agreements."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from projections.commitment_view import CommitmentViews
from projections.governance_view import GovernanceViews
from projections.queries.purpose_view import PurposeView, purpose_view
from tracker.api.dependencies import PrincipalDep
from tracker.api.problems import Refused, problem
from tracker.api.resources.view_support import (
    MIN_POSITION,
    VIEW_ERRORS,
    consistent,
    require_forum_view,
)
from tracker.audit.as_of import ViewsDep

# The governance views own purposes, meetings and agreements; the commitment views own
# commitments and the forums (members) that access is checked against.
VIEWS = (GovernanceViews.name, CommitmentViews.name)
MinPosition = Annotated[int | None, QueryParameter(description=MIN_POSITION)]
ACCESS = (
    " Leaders see views of forums they belong to; auditors and admins see all; "
    "integrations see the forums their token is limited to."
)


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
        description="Commitments citing the purpose grouped by status, with contributing "
        "leaders and organisations (owners who promised), a progress roll-up, the agreements "
        "in force for the purpose or its forum, and the last activity." + ACCESS,
        responses=VIEW_ERRORS,
    )
    async def get_purpose_view(
        self,
        purpose_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        min_position: MinPosition = None,
    ) -> PurposeView:
        """Wait for min_position, then read the view and check the caller may see its forum."""
        await consistent(state.pool, min_position, VIEWS)
        view = await purpose_view(views.pool, purpose_id, views.now)
        if view is None:
            raise not_found("purpose", purpose_id)
        await require_forum_view(state.pool, principal, view.forum_id)
        return view
