"""The commitment list: filters, overdue computed at query time, keyset pagination."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from projections.queries.commitment_list import (
    STATUSES,
    CommitmentPage,
    Filters,
    list_commitments,
)
from projections.queries.leader_view import READS
from projections.queries.paging import MAX_PAGE, PAGE
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.common import COMMAND_ERRORS
from tracker.api.resources.list_params import REFERENCE, ExternalId, SourceSystem
from tracker.api.resources.view_support import (
    VIEW_ERRORS,
    MinPosition,
    consistent,
    json_body,
    scope_now,
)
from tracker.api.schemas import day_query
from tracker.api.time_travel import ViewsDep
from tracker.application.external import referenced_id
from tracker.domain import InvalidValue
from tracker.domain.time_range import require_within

# The leader view's projections: the list names purposes and meetings from the governance views.
VIEWS = list(READS)
# A bad filter, window, limit or cursor is a 422 naming the parameter.
ERRORS = VIEW_ERRORS | {422: COMMAND_ERRORS[422]}

Statuses = Annotated[
    list[str] | None,
    QueryParameter(
        description="Only these statuses: repeat the parameter or separate them with commas "
        f"({', '.join(STATUSES)})"
    ),
]

DESCRIPTION = f"""\
Commitments in the order they were made (`created_at`, then id), a page at a time: pass a
response's `next_cursor` back as `cursor` for the next page; it is null on the last page.
Filters combine with AND. `overdue` is computed at query time, never stored: a commitment is
overdue when it is open (proposed or active) and due before today's date in its forum's time
zone (default Europe/London) at `evaluated_at`. {REFERENCE}

**Access**: only commitments in forums the caller may see are listed (a filter naming another
forum simply finds nothing): a leader sees forums they belong to; auditors and admins see all;
integrations see the forums their token is limited to (all, if it is not limited).
"""


def statuses(values: list[str] | None) -> tuple[str, ...] | None:
    """Repeated and comma-separated statuses as one tuple; 422 for an unknown status."""
    if not values:
        return None
    found = tuple(s.strip() for v in values for s in v.split(",") if s.strip())
    unknown = [s for s in found if s not in STATUSES]
    if unknown:
        raise InvalidValue("status", f"unknown status {unknown[0]!r}; one of {', '.join(STATUSES)}")
    return found or None


def _q(description: str) -> QueryParameter:
    return QueryParameter(description=description)


@get(
    "/commitments",
    operation_id="listCommitments",
    summary="List commitments, filtered, a page at a time",
    description=DESCRIPTION,
    responses=ERRORS,
    tags=["views"],
)
async def list_page(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    owner_id: Annotated[UUID | None, _q("Only commitments this leader owns")] = None,
    requester_id: Annotated[UUID | None, _q("Only commitments this leader requested")] = None,
    purpose_id: Annotated[UUID | None, _q("Only commitments citing this purpose")] = None,
    forum_id: Annotated[UUID | None, _q("Only commitments in this forum")] = None,
    organisation_id: Annotated[
        UUID | None, _q("Only commitments whose owner is now with this organisation")
    ] = None,
    status: Statuses = None,
    due_before: Annotated[date | None, day_query("Only those due on or before this date")] = None,
    due_after: Annotated[date | None, day_query("Only those due on or after this date")] = None,
    overdue: Annotated[
        bool | None, _q("true: only overdue commitments; false: only those not overdue")
    ] = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Annotated[str | None, _q("next_cursor from the previous page")] = None,
    limit: Annotated[
        int,
        QueryParameter(description=f"Items per page (at most {MAX_PAGE})", ge=1, le=MAX_PAGE),
    ] = PAGE,
    min_position: MinPosition = None,
) -> Response[CommitmentPage]:
    """Filter commitments the caller may see; page by an opaque cursor."""
    require_within("due_before", due_before)
    require_within("due_after", due_after)
    await consistent(state.pool, min_position, VIEWS)
    filters = Filters(
        commitment_id=referenced_id(source_system, external_id),
        owner_id=owner_id,
        requester_id=requester_id,
        purpose_id=purpose_id,
        forum_id=forum_id,
        organisation_id=organisation_id,
        statuses=statuses(status),
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
    )
    # Decided before any replay, from the forums as they are now.
    scope = await scope_now(state.pool, principal, views.past)
    async with views.read() as read:
        page = await list_commitments(read.pool, filters, scope, read.now(), cursor, limit)
    return json_body(page)


# Litestar 2 cannot merge two Controllers on one path (each brings its own OPTIONS handler), and
# CommitmentController already owns POST /commitments; a bare handler registered after it merges.
CommitmentListController: Any = list_page  # Any: app.py lists it among Controller classes
