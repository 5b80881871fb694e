"""Request and response shapes shared by every resource; limits on every string and list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from tracker.application.ports import Saved
from tracker.domain import AffiliationSnapshot
from tracker.domain.time_range import SPAN, YEARS_PATTERN, within

_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it as a field error instead

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_NO_NUL)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=_NO_NUL)]
OptionalText = Annotated[str, msgspec.Meta(max_length=4000, pattern=_NO_NUL)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=_NO_NUL)]
Email = Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00:]*$")]
Ids = Annotated[list[UUID], msgspec.Meta(max_length=100)]

# Every date and time a client sends lies in one span: PostgreSQL would store a year-1 time, but
# Python cannot read it back in UTC, and a view that met it would fail for good.
DAY_RULE = f"a date {SPAN}"
TIME_RULE = f"a time with a UTC offset whose date, as written, is {SPAN}"
_SPAN_PATTERN = {"pattern": YEARS_PATTERN}
Day = Annotated[
    date,
    msgspec.Meta(extra_json_schema={"description": "A" + DAY_RULE[1:], "extra": _SPAN_PATTERN}),
]
Moment = Annotated[
    datetime,
    msgspec.Meta(
        tz=True, extra_json_schema={"description": "A" + TIME_RULE[1:], "extra": _SPAN_PATTERN}
    ),
]
# A body field outside the span is refused with this message; problems.py names the field by it.
OUT_OF_SPAN = "`{}` must be " + SPAN


def day_query(description: str) -> QueryParameter:
    """A date query parameter, documented with the span (handlers check it)."""
    return QueryParameter(description=f"{description}: {DAY_RULE}", schema_extra=_SPAN_PATTERN)


def time_query(description: str) -> QueryParameter:
    """A time query parameter, documented with the span (handlers check it)."""
    return QueryParameter(description=f"{description}: {TIME_RULE}", schema_extra=_SPAN_PATTERN)


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every request body: unknown fields are refused, not ignored."""

    def __post_init__(self) -> None:
        """Refuse any date or time outside the span, naming its field."""
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, date) and not within(value):
                raise ValueError(OUT_OF_SPAN.format(name))


class Creation(Command, frozen=True, kw_only=True):
    """Base of creation bodies: an optional id, or an external reference for integrations."""

    id: UUID | None = None
    source_system: ExternalId | None = None
    external_id: ExternalId | None = None


class Reasoned(Command, frozen=True, kw_only=True):
    """A step that needs a reason."""

    reason: Reason


class OptionalReason(Command, frozen=True, kw_only=True):
    """A step that may give a reason or note."""

    reason: OptionalText = ""


class Renaming(Command, frozen=True, kw_only=True):
    """The new name."""

    name: Name


class Adoption(Command, frozen=True, kw_only=True):
    """The decision rule the forum used, and the meeting it decided at, if any."""

    decision_rule: Name
    meeting_id: UUID | None = None


class AffiliationView(msgspec.Struct, frozen=True, kw_only=True):
    """A leader's organisation and title on the day they endorsed or attended, for context only."""

    organisation_id: UUID
    organisation_name: str
    title: str

    @classmethod
    def of(cls, a: AffiliationSnapshot | None) -> AffiliationView | None:
        """The snapshot as the API shows it."""
        if a is None:
            return None
        return cls(
            organisation_id=a.organisation_id, organisation_name=a.organisation_name, title=a.title
        )


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """Where a command's events landed: use position (or checkpoint) to read your writes."""

    stream_id: UUID
    version: int
    position: int
    checkpoint: str
    replayed: bool = False

    @classmethod
    def of(cls, saved: Saved, stream_id: UUID) -> Recorded:
        """The result for one stream of a save."""
        mine = [e for e in saved.events if e.stream_id == stream_id] or list(saved.events)
        last = max(saved.events, key=lambda e: (e.transaction_id, e.position))
        return cls(
            stream_id=stream_id,
            version=max(e.version for e in mine),
            position=max(e.position for e in mine),
            checkpoint=f"{last.transaction_id}:{last.position}",
            replayed=saved.replayed,
        )
