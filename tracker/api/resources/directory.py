"""The directory lists: organisations, leaders and forums by name, so callers can find ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import get
from litestar.datastructures import State
from litestar.params import QueryParameter

from projections.directory_view import DirectoryView
from projections.queries.directory import list_forums, list_leaders, list_organisations
from projections.queries.directory_now import seen_now
from projections.queries.directory_structs import (
    ForumFilters,
    ForumPage,
    LeaderFilters,
    LeaderPage,
    OrganisationFilters,
    OrganisationPage,
)
from projections.queries.paging import MAX_PAGE, PAGE
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.common import problem_response
from tracker.api.resources.view_support import VIEW_ERRORS, MinPosition, consistent
from tracker.api.time_travel import ViewReader, ViewsDep
from tracker.application.directory import Sight, looked_up, sight
from tracker.application.principal import Principal
from tracker.audit.past_views import Views

VIEWS = [DirectoryView.name]
# A list finds nothing rather than 404; a bad filter, limit or cursor is a 422 naming it.
ERRORS = {k: v for k, v in VIEW_ERRORS.items() if k != 404} | {
    422: problem_response(
        "A query parameter is invalid (a cursor this API did not hand out, a limit out of "
        "range, source_system without external_id...); `errors` names it"
    )
}
PAGING = """
Ordered by name (case-insensitive), then id, a page at a time: pass a response's
`next_cursor` back as `cursor` for the next page; it is null on the last page. Filters combine
with AND. `source_system` with `external_id` finds the one created under that external
reference (a page of one item, or none). With `as_of`, the list as it stood then (names,
statuses, affiliations and memberships of that time), paged the same way.
"""
# Who a past list shows is decided as for every other view as of a cut: by the caller's access
# now (today's memberships and token), never by what it was then.
PAST_ACCESS = """ With `as_of`, who is listed is decided by the caller's
access now (today's memberships and token, as for every view as of a past cut), each as it stood
then: a forum or leader the caller may not see now is never listed, one that did not exist yet
is left out, and emails are shown to whom they are shown now."""


def _q(description: str, **constraints: Any) -> Any:
    return QueryParameter(description=description, **constraints)


# No text PostgreSQL could not take (a NUL) reaches a query: 422 naming the parameter.
NO_NUL = r"^[^\x00]*$"
NamePrefix = Annotated[
    str | None,
    _q(
        "Only those whose name starts with this (case-insensitive)",
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
    ),
]
SourceSystem = Annotated[
    str | None,
    _q("With external_id: the system whose reference to look up", min_length=1, max_length=200),
]
ExternalId = Annotated[
    str | None,
    _q("With source_system: that system's own id for the resource", min_length=1, max_length=200),
]
Cursor = Annotated[
    str | None, _q("next_cursor from the previous page", min_length=1, max_length=2000)
]
Limit = Annotated[int, _q(f"Items per page (at most {MAX_PAGE})", ge=1, le=MAX_PAGE)]


@asynccontextmanager
async def directory(
    state: State, principal: Principal, min_position: int | None, views: ViewReader | None = None
) -> AsyncIterator[Views]:
    """The views, live or as of views' cut, once the directory has reached min_position,
    within the read limits."""
    await consistent(state.pool, min_position, VIEWS)
    async with (views or ViewReader(state, principal, None)).read() as read:
        yield read


async def sight_of(
    state: State, principal: Principal, views: ViewReader, min_position: int | None
) -> Sight:
    """What the caller's list shows; for a past one, fixed from today's memberships (once
    they include min_position) before the past is read."""
    seen = sight(principal)
    if not views.past:
        return seen
    await consistent(state.pool, min_position, VIEWS)
    return await seen_now(state.pool, seen)


@get(
    "/organisations",
    operation_id="listOrganisations",
    summary="List organisations by name, a page at a time",
    description=f"Every organisation, archived ones too unless `status` says otherwise.\n{PAGING}"
    "\n**Access**: every authenticated caller.",
    responses=ERRORS,
    tags=["directory"],
)
async def organisations_page(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    name: NamePrefix = None,
    status: Annotated[
        Literal["active", "archived"] | None, _q("Only organisations with this status")
    ] = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Cursor = None,
    limit: Limit = PAGE,
    min_position: MinPosition = None,
) -> OrganisationPage:
    """Organisations by name; everyone may list them."""
    key = looked_up(source_system, external_id)
    filters = OrganisationFilters(organisation_id=key, name=name, status=status)
    async with directory(state, principal, min_position, views) as read:
        return await list_organisations(read.pool, filters, cursor, limit)


@get(
    "/leaders",
    operation_id="listLeaders",
    summary="List leaders by name, a page at a time",
    description=f"""Leaders with their current affiliations (roles not yet ended), each with
its organisation's name.\n{PAGING}
**Access**: admins, auditors and integrations with no forum limit see every leader; a leader
sees the members of the forums they belong to now, and themselves; an integration limited to
forums sees those forums' members. A `forum_id` the caller may not see finds nothing. `email`
follows GET /leaders/{{leader_id}}: it is shown to the leader themself, auditors, admins and
the stewards of a forum the leader belongs to, and null to everyone else; the `email` filter
only finds leaders whose email the caller sees.{PAST_ACCESS}""",
    responses=ERRORS,
    tags=["directory"],
)
async def leaders_page(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    organisation_id: Annotated[
        UUID | None, _q("Only leaders with a current role with this organisation")
    ] = None,
    forum_id: Annotated[UUID | None, _q("Only members of this forum")] = None,
    name: NamePrefix = None,
    email: Annotated[
        str | None,
        _q(
            "Only the leader with this email (case-insensitive)",
            min_length=1,
            max_length=320,
            pattern=NO_NUL,
        ),
    ] = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Cursor = None,
    limit: Limit = PAGE,
    min_position: MinPosition = None,
) -> LeaderPage:
    """Leaders by name, as far as the caller may see them."""
    key = looked_up(source_system, external_id)
    filters = LeaderFilters(
        leader_id=key, organisation_id=organisation_id, forum_id=forum_id, name=name, email=email
    )
    seen = await sight_of(state, principal, views, min_position)
    async with directory(state, principal, min_position, views) as read:
        return await list_leaders(read.pool, filters, seen, cursor, limit)


@get(
    "/forums",
    operation_id="listForums",
    summary="List the caller's forums by name, a page at a time",
    description=f"""Forums with their time zone and how many members they have (then, with
`as_of`).\n{PAGING}
**Access**: a leader sees the forums they belong to now; an integration limited to forums sees
those; admins, auditors and integrations with no forum limit see every forum.{PAST_ACCESS}""",
    responses=ERRORS,
    tags=["directory"],
)
async def forums_page(
    principal: PrincipalDep,
    state: State,
    views: ViewsDep,
    name: NamePrefix = None,
    source_system: SourceSystem = None,
    external_id: ExternalId = None,
    cursor: Cursor = None,
    limit: Limit = PAGE,
    min_position: MinPosition = None,
) -> ForumPage:
    """The caller's forums by name (every forum, for those who see them all)."""
    filters = ForumFilters(forum_id=looked_up(source_system, external_id), name=name)
    seen = await sight_of(state, principal, views, min_position)
    async with directory(state, principal, min_position, views) as read:
        return await list_forums(read.pool, filters, seen, cursor, limit)


# Litestar 2 cannot merge two Controllers on one path, and the resources' controllers own POST
# on these paths; bare handlers registered after them merge.
DIRECTORY_LISTS: list[Any] = [organisations_page, leaders_page, forums_page]
