"""Time travel over HTTP: the as_of query parameter, and one request's views, live or past."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from tracker.api.schemas import TIME_RULE
from tracker.application import reads
from tracker.application.principal import Principal
from tracker.audit.as_of import get_as_of
from tracker.audit.past_views import Views, views_as_of
from tracker.eventstore.repository import Repository

A = TypeVar("A", bound=Aggregate)

AS_OF = (
    "Answer as of a past moment: a timestamp (ISO 8601 with an offset, such as "
    "2026-11-26T10:00:00Z; events recorded at or before it) or a global position (an integer; "
    "events at or before that event in the log's (transaction_id, position) order). "
    "Overdue is judged at that moment. 404 if the resource did not exist then. A timestamp is "
    f"{TIME_RULE}."
)
AsOfQuery = Annotated[str | None, QueryParameter(description=AS_OF, min_length=1, max_length=64)]


async def provide_views(
    state: State, principal: NamedDependency[Principal], as_of: AsOfQuery = None
) -> AsyncIterator[Views]:
    """The live views, or with as_of the views as they stood then, for one request."""
    # It takes the principal only to be resolved after it, not beside it (see provide_commands).
    del principal
    if as_of is None:
        yield Views(state.pool, state.now, cache=state.view_cache)
        return
    async with views_as_of(state.pool, as_of) as past:
        yield past


ViewsDep = NamedDependency[Views]


async def read_as_of(
    repository: Repository, principal: Principal, cls: type[A], resource_id: UUID, as_of: str | None
) -> A:
    """A resource now, or as at as_of; access is decided first, before any replay."""
    current = await reads.readable(repository, principal, cls, resource_id)
    return current if as_of is None else await get_as_of(repository, cls, resource_id, as_of)
