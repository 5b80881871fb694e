"""A forum's purposes and meetings, a page at a time, for those who may see the forum."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath

from projections.queries.agreements_register import forum_known
from projections.queries.governance_items import MeetingPage, PurposePage
from projections.queries.governance_lists import LISTINGS, ListFilters, list_page
from projections.queries.paging import PAGE
from projections.queries.sql import Scope
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.governance_lists import (
    ERRORS,
    MEETINGS,
    PURPOSES,
    VIEWS,
    MeetingStatuses,
    PageAsked,
    PurposeStatuses,
    StartsBefore,
    StartsFrom,
    meeting_filters,
    purpose_filters,
)
from tracker.api.resources.list_params import (
    REFERENCE,
    Cursor,
    ExternalId,
    Limit,
    SourceSystem,
)
from tracker.api.resources.purpose_views import not_found
from tracker.api.resources.view_support import (
    MinPosition,
    consistent,
    require_forum_view,
    require_view_now,
)
from tracker.api.time_travel import ViewReader, ViewsDep
from tracker.application.principal import Principal
from tracker.domain import Forum

IN_FORUM = """

**Access**: 404, the very answer an unknown forum gets, unless the caller may see the forum: a
leader sees forums they belong to; auditors and admins see all; integrations see the forums
their token is limited to (all, if it is not limited)."""


async def forum_listed(
    state: State,
    principal: Principal,
    views: ViewReader,
    name: str,
    filters: ListFilters,
    page: PageAsked,
) -> Any:
    """A page of one list within one forum; 404, as an unknown forum, unless the caller sees
    it."""
    cursor, limit, min_position = page
    forum_id = filters.forum_id
    if forum_id is None:
        raise ValueError("a forum's list names its forum")
    await consistent(state.pool, min_position, VIEWS)
    if views.past:
        # Access to the past is judged by today's membership, before the replay.
        await require_view_now(state, principal, Forum, forum_id)
    async with views.read() as read:
        if not await forum_known(read.pool, forum_id):
            raise not_found("forum", forum_id)
        if not views.past:
            await require_forum_view(state.pool, principal, forum_id, "forum", forum_id)
        return await list_page(read.pool, LISTINGS[name], filters, Scope(), cursor, limit)


class ForumListController(Controller):
    """A forum's purposes and meetings, a page at a time."""

    path = "/forums"
    tags = ("views",)

    @get(
        "/{forum_id:uuid}/purposes",
        operation_id="listForumPurposes",
        summary="List one forum's purposes, filtered, a page at a time",
        description=PURPOSES + REFERENCE + IN_FORUM,
        responses=ERRORS,
    )
    async def list_forum_purposes(
        self,
        forum_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        status: PurposeStatuses = None,
        source_system: SourceSystem = None,
        external_id: ExternalId = None,
        cursor: Cursor = None,
        limit: Limit = PAGE,
        min_position: MinPosition = None,
    ) -> PurposePage:
        """The forum's purposes, once the caller may see the forum."""
        filters = purpose_filters(forum_id, status, source_system, external_id)
        page = (cursor, limit, min_position)
        return cast(
            PurposePage, await forum_listed(state, principal, views, "purposes", filters, page)
        )

    @get(
        "/{forum_id:uuid}/meetings",
        operation_id="listForumMeetings",
        summary="List one forum's meetings, filtered by status and start, a page at a time",
        description=MEETINGS + REFERENCE + IN_FORUM,
        responses=ERRORS,
    )
    async def list_forum_meetings(
        self,
        forum_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        status: MeetingStatuses = None,
        starts_from: StartsFrom = None,
        starts_before: StartsBefore = None,
        source_system: SourceSystem = None,
        external_id: ExternalId = None,
        cursor: Cursor = None,
        limit: Limit = PAGE,
        min_position: MinPosition = None,
    ) -> MeetingPage:
        """The forum's meetings, once the caller may see the forum."""
        starts = (starts_from, starts_before)
        filters = meeting_filters(forum_id, status, starts, source_system, external_id)
        page = (cursor, limit, min_position)
        return cast(
            MeetingPage, await forum_listed(state, principal, views, "meetings", filters, page)
        )
