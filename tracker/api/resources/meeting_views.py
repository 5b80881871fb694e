"""The meeting view: attendance, decisions, commitments made, and changes since the last."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from projections.queries.meeting_view import MeetingView, meeting_view
from projections.queries.paging import MAX_PAGE, PAGE
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.common import COMMAND_ERRORS
from tracker.api.resources.purpose_views import ACCESS, VIEWS, not_found
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    require_forum_view,
    require_view_now,
)
from tracker.api.time_travel import ViewsDep
from tracker.application import bounds
from tracker.domain import Meeting

Section = Literal[
    "decisions",
    "commitments_made",
    "done",
    "changed_terms",
    "handed_over",
    "no_longer_pursued",
    "new",
    "still_open",
    "overdue",
]
DESCRIPTION = f"""\
Attendees grouped by the organisation recorded at the meeting ("unaffiliated" when none),
apologies, decisions, commitments made there, and `since_previous`: what changed since the
forum's previous (not cancelled) meeting.

**Since the previous meeting.** The window runs from the previous meeting's start to this
meeting's start (for a first meeting, everything before it began), by when events were
recorded. It looks at commitments made before this meeting began, in the forum or citing one
of the forum's purposes, and not made at this meeting. Each is in one group, the first that
fits, judged by its state when this meeting began: `done` (completed or acknowledged, with a
change in the window), `no_longer_pursued` (released, declined, withdrawn or cancelled, with a
change in the window), and of those still open: `overdue` (due before the meeting's date in
the forum's time zone), `handed_over` (taken over in the window), `changed_terms`
(renegotiated, or a counter-offer agreed, in the window), `new` (made in the window) and
`still_open`.
A commitment finished before the window and untouched in it is not listed. Each entry is the
commitment as it is now, with `changes`: every change it had in the window, oldest first.

**Names beside ids**, looked up when read (so a corrected name shows at once, and a view
`as_of` a past moment shows the names of then; null for one the views lack): each attendee's
and apology's `leader_name`; each listed commitment's `owner_name`, `owner_organisation_name`,
`owner_role` and `requester_name`; each change's `actor_name`. A decision's `decision_rule`
is its rule's title.

**A page of each list**: `decisions` (in the order recorded), `commitments_made` and each
group (oldest first, then by id) list at most `limit` entries each (default {PAGE}, at most
{MAX_PAGE}); `counts` holds how many each has in full, and `cursors` the cursor of each one's
next page (null on its last). Pass one back as `cursor` (with `section` set to its list, or
without `section`) for that list's next page: then only that list is filled, the others are
empty with null cursors, and the rest of the view is as on the first page. A cursor this API
did not hand out, or one of another list than `section`, is a 422 naming `cursor`.

**Bounded lists**: `attendees` (over all groups) and `apologies` list at most
{bounds.ATTENDANCE} leaders each, by leader id, and `attendees_total` and `apologies_total`
count them in full (all of them: the meeting's stream, `/streams/{{meeting_id}}/events`). Each
entry's `changes` are its latest {bounds.CHANGES}, oldest first, and
`changes_total` counts them (all of them: `/commitments/{{commitment_id}}/history`).
"""


class MeetingViewController(Controller):
    """Read views of meetings."""

    path = "/meetings"
    tags = ("views",)

    @get(
        "/{meeting_id:uuid}/view",
        operation_id="getMeetingView",
        summary="View a meeting: attendees, decisions, commitments, changes since the last",
        description=DESCRIPTION + ACCESS,
        responses=VIEW_ERRORS | {422: COMMAND_ERRORS[422]},
    )
    async def get_meeting_view(
        self,
        meeting_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        min_position: MinPosition = None,
        limit: Annotated[
            int,
            QueryParameter(description=f"Entries per list (at most {MAX_PAGE})", ge=1, le=MAX_PAGE),
        ] = PAGE,
        section: Annotated[
            Section | None,
            QueryParameter(description="List only this one (the list of `cursor`)"),
        ] = None,
        cursor: Annotated[
            str | None,
            QueryParameter(description="A list's cursor from `cursors`", max_length=400),
        ] = None,
    ) -> MeetingView:
        """Wait for min_position, then read the view and check the caller may see its forum."""
        await consistent(state.pool, min_position, VIEWS)
        if views.past:
            # Access to the past is judged by today's membership, before the replay.
            await require_view_now(state, principal, Meeting, meeting_id)
        async with views.read() as read:
            view = await meeting_view(read.pool, meeting_id, read.now, limit, section, cursor)
        if view is None:
            raise not_found("meeting", meeting_id)
        if not views.past:
            await require_forum_view(state.pool, principal, view.forum_id, "meeting", meeting_id)
        return view
