"""The meeting view: attendance, decisions, commitments made and carried forward."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath

from projections.queries.meeting_view import MeetingView, meeting_view
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.purpose_views import ACCESS, VIEWS, not_found
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    require_forum_view,
)
from tracker.api.time_travel import ViewsDep


class MeetingViewController(Controller):
    """Read views of meetings."""

    path = "/meetings"
    tags = ("views",)

    @get(
        "/{meeting_id:uuid}/view",
        operation_id="getMeetingView",
        summary="View a meeting: attendees, apologies, decisions, commitments, carried forward",
        description="Attendees grouped by the organisation recorded at the meeting "
        '("unaffiliated" when none), apologies, decisions, commitments made there, and the '
        "open commitments from the forum's previous (not cancelled) meeting with every change "
        "on them since it began." + ACCESS,
        responses=VIEW_ERRORS,
    )
    async def get_meeting_view(
        self,
        meeting_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        min_position: MinPosition = None,
    ) -> MeetingView:
        """Wait for min_position, then read the view and check the caller may see its forum."""
        await consistent(state.pool, min_position, VIEWS)
        view = await meeting_view(views.pool, meeting_id, views.now)
        if view is None:
            raise not_found("meeting", meeting_id)
        await require_forum_view(state.pool, principal, view.forum_id, "meeting", meeting_id)
        return view
