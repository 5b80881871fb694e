"""Query parameters and checks the view lists share: paging, choices, references, time ranges."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Annotated

from litestar.params import QueryParameter

from projections.queries.paging import MAX_PAGE
from tracker.domain import InvalidValue
from tracker.domain.time_range import require_within

Cursor = Annotated[
    str | None, QueryParameter(description="next_cursor of the previous page", max_length=400)
]
Limit = Annotated[
    int, QueryParameter(description=f"Items per page (at most {MAX_PAGE})", ge=1, le=MAX_PAGE)
]
SourceSystem = Annotated[
    str | None,
    QueryParameter(
        description="With external_id: only the one created under this external reference",
        min_length=1,
        max_length=200,
    ),
]
ExternalId = Annotated[
    str | None,
    QueryParameter(
        description="With source_system: only the one created under this external reference",
        min_length=1,
        max_length=200,
    ),
]
REFERENCE = (
    "`source_system` and `external_id` together look one up by the external reference it was "
    "created under: a page of one item, or none (also when it is in a forum the caller may not "
    "see); one without the other is a 422 naming the missing one."
)


def choices(plural: str, allowed: Collection[str]) -> QueryParameter:
    """A repeatable query parameter taking some of these values."""
    return QueryParameter(
        description=f"Only these {plural}: repeat the parameter or separate them with commas "
        f"({', '.join(sorted(allowed))})"
    )


def chosen(name: str, values: list[str] | None, allowed: Collection[str]) -> tuple[str, ...] | None:
    """Repeated and comma-separated values as one tuple; 422 naming the parameter for an
    unknown one."""
    if not values:
        return None
    found = tuple(s.strip() for v in values for s in v.split(",") if s.strip())
    for value in found:
        if value not in allowed:
            raise InvalidValue(
                name, f"unknown {name} {value!r}; one of {', '.join(sorted(allowed))}"
            )
    return found or None


def aware(name: str, value: datetime | None) -> datetime | None:
    """A time with its offset, within the span; 422 naming the parameter otherwise."""
    if value is not None and value.tzinfo is None:
        # A time without an offset means different moments to different readers.
        raise InvalidValue(name, "needs a UTC offset, such as Z or +01:00")
    require_within(name, value)
    return value


def time_range(
    start: tuple[str, datetime | None], end: tuple[str, datetime | None]
) -> tuple[datetime | None, datetime | None]:
    """A half-open range of times [start, end); 422 naming the end when it is not after the
    start."""
    since, until = aware(*start), aware(*end)
    if since is not None and until is not None and until <= since:
        raise InvalidValue(end[0], f"must be after {start[0]}")
    return since, until
