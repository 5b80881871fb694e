"""The purpose, meeting and agreement lists, across the caller's forums or within one forum."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast
from uuid import UUID

from litestar import get
from litestar.datastructures import State
from litestar.params import QueryParameter

from projections.queries.governance_items import AgreementPage, MeetingPage, PurposePage
from projections.queries.governance_lists import LISTINGS, ListFilters, list_page
from projections.queries.leader_view import READS
from projections.queries.paging import PAGE
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.common import COMMAND_ERRORS
from tracker.api.resources.list_params import (
    REFERENCE,
    Cursor,
    ExternalId,
    Limit,
    SourceSystem,
    choices,
    chosen,
    time_range,
)
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    scope_now,
)
from tracker.api.schemas import time_query
from tracker.api.time_travel import ViewReader, ViewsDep
from tracker.application.external import referenced_id
from tracker.application.principal import Principal
from tracker.domain import agreement, meeting, purpose

# The cursor, limit and min_position a request asked for.
PageAsked = tuple[str | None, int, int | None]
VIEWS = list(READS)  # forum and leader names come from the commitment views
# A bad filter, range, limit or cursor is a 422 naming the parameter.
ERRORS = VIEW_ERRORS | {422: COMMAND_ERRORS[422]}
PURPOSE_STATUSES = (purpose.PROPOSED, purpose.ADOPTED, purpose.RETIRED)
MEETING_STATUSES = (meeting.SCHEDULED, meeting.OPEN, meeting.FINALISED, meeting.CANCELLED)
AGREEMENT_STATUSES = (agreement.PROPOSED, agreement.ADOPTED, agreement.RESCINDED)

ForumFilter = Annotated[UUID | None, QueryParameter(description="Only those of this forum")]
PurposeStatuses = Annotated[list[str] | None, choices("statuses", PURPOSE_STATUSES)]
MeetingStatuses = Annotated[list[str] | None, choices("statuses", MEETING_STATUSES)]
AgreementStatuses = Annotated[list[str] | None, choices("statuses", AGREEMENT_STATUSES)]
Kinds = Annotated[list[str] | None, choices("kinds", agreement.KINDS)]
StartsFrom = Annotated[
    datetime | None, time_query("Only meetings starting at or after this time (with an offset)")
]
StartsBefore = Annotated[
    datetime | None, time_query("Only meetings starting before this time (with an offset)")
]

ACCESS = """

**Access**: only those of forums the caller may see are listed (a filter naming another forum
simply finds nothing): a leader sees forums they belong to; auditors and admins see all;
integrations see the forums their token is limited to (all, if it is not limited)."""
PAGING = (
    "A page at a time: pass a response's `next_cursor` back as `cursor` for the next page; it "
    "is null on the last page. Filters combine with AND. "
)
PURPOSES = "Purposes in the order they were proposed (`proposed_at`, then id). " + PAGING
MEETINGS = (
    "Meetings in the order they start (`starts_at`, then id). "
    + PAGING
    + "`starts_from` and `starts_before` bound the start to a half-open range; "
    "`starts_before` must be after `starts_from`. "
)
AGREEMENTS = (
    "Agreements in the order they were proposed (`proposed_at`, then id), whatever their "
    "scope; `forum_id` is the forum an agreement belongs to (a purpose-scoped one's purpose's "
    "forum). " + PAGING
)


def purpose_filters(
    forum_id: UUID | None,
    status: list[str] | None,
    source_system: str | None,
    external_id: str | None,
) -> ListFilters:
    """What a purpose list asked for; 422 naming a bad status or half a reference."""
    return ListFilters(
        forum_id=forum_id,
        resource_id=referenced_id(source_system, external_id),
        statuses=chosen("status", status, PURPOSE_STATUSES),
    )


def meeting_filters(
    forum_id: UUID | None,
    status: list[str] | None,
    starts: tuple[datetime | None, datetime | None],
    source_system: str | None,
    external_id: str | None,
) -> ListFilters:
    """What a meeting list asked for; 422 naming a bad status, range or half a reference."""
    since, until = time_range(("starts_from", starts[0]), ("starts_before", starts[1]))
    return ListFilters(
        forum_id=forum_id,
        resource_id=referenced_id(source_system, external_id),
        statuses=chosen("status", status, MEETING_STATUSES),
        starts_from=since,
        starts_before=until,
    )


async def listed(
    state: State,
    principal: Principal,
    views: ViewReader,
    name: str,
    filters: ListFilters,
    page: PageAsked,
) -> Any:
    """A page of one list over the forums the caller may see, once min_position is applied."""
    cursor, limit, min_position = page
    await consistent(state.pool, min_position, VIEWS)
    # Decided before any replay, from the forums as they are now.
    scope = await scope_now(state.pool, principal, views.past)
    async with views.read() as read:
        return await list_page(read.pool, LISTINGS[name], filters, scope, cursor, limit)


@get(
    "/purposes",
    operation_id="listPurposes",
    summary="List purposes, filtered, a page at a time",
    description=PURPOSES + REFERENCE + ACCESS,
    responses=ERRORS,
    tags=["views"],
)
async def list_purposes(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    forum_id: ForumFilter = None,
    status: PurposeStatuses = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Cursor = None,
    limit: Limit = PAGE,
    min_position: MinPosition = None,
) -> PurposePage:
    """Filter the purposes the caller may see; page by an opaque cursor."""
    filters = purpose_filters(forum_id, status, source_system, external_id)
    page = (cursor, limit, min_position)
    return cast(PurposePage, await listed(state, principal, views, "purposes", filters, page))


@get(
    "/meetings",
    operation_id="listMeetings",
    summary="List meetings, filtered by forum, status and start, a page at a time",
    description=MEETINGS + REFERENCE + ACCESS,
    responses=ERRORS,
    tags=["views"],
)
async def list_meetings(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    forum_id: ForumFilter = None,
    status: MeetingStatuses = None,
    starts_from: StartsFrom = None,
    starts_before: StartsBefore = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Cursor = None,
    limit: Limit = PAGE,
    min_position: MinPosition = None,
) -> MeetingPage:
    """Filter the meetings the caller may see; page by an opaque cursor."""
    starts = (starts_from, starts_before)
    filters = meeting_filters(forum_id, status, starts, source_system, external_id)
    page = (cursor, limit, min_position)
    return cast(MeetingPage, await listed(state, principal, views, "meetings", filters, page))


@get(
    "/agreements",
    operation_id="listAgreements",
    summary="List agreements, filtered by forum, kind and status, a page at a time",
    description=AGREEMENTS + REFERENCE + ACCESS,
    responses=ERRORS,
    tags=["views"],
)
async def list_agreements(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    forum_id: ForumFilter = None,
    kind: Kinds = None,
    status: AgreementStatuses = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Cursor = None,
    limit: Limit = PAGE,
    min_position: MinPosition = None,
) -> AgreementPage:
    """Filter the agreements the caller may see; page by an opaque cursor."""
    filters = ListFilters(
        forum_id=forum_id,
        resource_id=referenced_id(source_system, external_id),
        statuses=chosen("status", status, AGREEMENT_STATUSES),
        kinds=chosen("kind", kind, agreement.KINDS),
    )
    page = (cursor, limit, min_position)
    return cast(AgreementPage, await listed(state, principal, views, "agreements", filters, page))


# Litestar 2 cannot merge two Controllers on one path (each brings its own OPTIONS handler), and
# the POST controllers own /purposes, /meetings and /agreements; bare handlers registered after
# them merge. Any: app.py lists them among Controller classes.
PurposeListController: Any = list_purposes
MeetingListController: Any = list_meetings
AgreementListController: Any = list_agreements
