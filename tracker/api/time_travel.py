"""Time travel over HTTP: the as_of query parameter, and one request's views, live or past."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar, cast
from uuid import UUID

import asyncpg
from eventsourcing.domain import Aggregate
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from tracker.api.schemas import TIME_RULE
from tracker.api.view_limits import Admissions, TimedPool, behind, view_timeout
from tracker.application import reads
from tracker.application.principal import Principal
from tracker.audit.as_of import get_as_of, parse_as_of
from tracker.audit.past_views import NotReached, Views, views_as_of
from tracker.eventstore.repository import Repository

A = TypeVar("A", bound=Aggregate)

AS_OF = (
    "Answer as of a past moment: a timestamp (ISO 8601 with an offset, such as "
    "2026-11-26T10:00:00Z; events recorded at or before it) or a global position (an integer; "
    "events at or before that event in the log's (transaction_id, position) order). "
    "Overdue is judged at that moment. 404 if the resource did not exist then. A timestamp is "
    f"{TIME_RULE}."
)
# What parse_as_of() accepts: a positive global position of at most 18 digits (leading zeros
# too, which the pattern leaves out), or an ISO 8601 time with a UTC offset whose year is in
# the span (tracker/domain/time_range.py); the server strips surrounding spaces.
AS_OF_PATTERN = (
    r"^\s*([1-9][0-9]{0,17}"
    r"|(19[0-9]{2}|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}[T ][0-9]{2}"
    r"(:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,6})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?))\s*$"
)
AsOfQuery = Annotated[str | None, QueryParameter(description=AS_OF, min_length=1, max_length=64)]


class ViewReader:
    """One request's views: the live ones, or those as of a past cut, each read bounded."""

    # A handler decides the caller's access first, from the live views, and only then opens
    # these.

    def __init__(self, state: State, principal: Principal, as_of: str | None) -> None:
        self.state, self.principal, self.as_of = state, principal, as_of

    @property
    def past(self) -> bool:
        """Whether the request asks for a past cut of the log."""
        return self.as_of is not None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Views]:
        """The views to read, within the process's limits; 429, 503 behind or view-timeout."""
        admissions: Admissions = self.state.admissions
        limits = admissions.limits
        token = self.principal.token_id
        if self.as_of is None:
            # Each query is timed, rather than the request: a view computed for others too runs
            # in a task of its own, which the request's deadline would not cancel.
            pool = cast(asyncpg.Pool, TimedPool(self.state.pool, limits.view_timeout))
            with admissions.live.admitted(token):
                try:
                    yield Views(pool, self.state.now, cache=self.state.view_cache)
                except TimeoutError:
                    raise view_timeout(limits.view_timeout) from None
            return
        as_of = parse_as_of(self.as_of)  # 422 before anything waits
        with admissions.live.admitted(token):
            try:
                async with views_as_of(
                    self.state.pool,
                    as_of,
                    wait=limits.as_of_wait,
                    query_seconds=limits.view_timeout,
                ) as past:
                    yield past
            except NotReached:
                raise behind(limits.as_of_wait) from None
            except TimeoutError:
                raise view_timeout(limits.view_timeout) from None


def provide_views(
    state: State, principal: NamedDependency[Principal], as_of: AsOfQuery = None
) -> ViewReader:
    """The live views, or with as_of the views as they stood then, for one request."""
    return ViewReader(state, principal, as_of)


ViewsDep = NamedDependency[ViewReader]


async def read_as_of(
    repository: Repository, principal: Principal, cls: type[A], resource_id: UUID, as_of: str | None
) -> A:
    """A resource now, or as at as_of; access is decided first, before its stream is read."""
    current = await reads.readable(repository, principal, cls, resource_id)
    return current if as_of is None else await get_as_of(repository, cls, resource_id, as_of)
