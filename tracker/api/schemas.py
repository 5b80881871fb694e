"""Request and response shapes shared by every resource; limits on every string and list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from tracker.application.decisions import DecisionBasis
from tracker.application.ports import Saved
from tracker.domain import AffiliationSnapshot
from tracker.domain.time_range import SPAN, YEARS_PATTERN, within
from tracker.domain.values import Decision

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


# How an adoption names its rule, for the operations' descriptions.
ADOPTION_RULE = (
    "Name the forum's decision rule in force by `decision_rule_id`: an adopted, not rescinded "
    "agreement of kind `decision_rule` scoped to the forum itself. An unknown id and a rule of "
    "another forum are refused alike; a rule not yet adopted, rescinded, of another kind or "
    "scoped to a purpose is refused saying which; each is a 422 naming `decision_rule_id`. "
    "With `meeting_id`, the members the meeting records as attending are kept with the "
    "decision as `present`. The decision records the rule's title, id and version (the "
    "agreement's stream version: its text as amended then)."
)
BOOTSTRAP_RULE = (
    " A forum with no decision rule in force adopts its first one (a forum-scoped "
    '`decision_rule` agreement) with `bootstrap: "consent"` instead, listing in '
    "`consented_by` every member present at the meeting named or, without a meeting, every "
    "member of the forum: a consent that misses one, or names anyone else, is a 422 naming "
    "`consented_by`. Bootstrap consent for anything else is a 422 naming `bootstrap`."
)


class Adoption(Command, frozen=True, kw_only=True):
    """The forum's decision rule in force that it decided under (`decision_rule_id`, an adopted
    decision-rule agreement of the forum), and the meeting it decided at, if any, whose
    attendance is kept with the decision. Only a forum's first decision rule is adopted by
    `bootstrap: "consent"` instead, with `consented_by` naming every member present at the
    meeting or, without a meeting, every member of the forum (at most 100)."""

    decision_rule_id: UUID | None = None
    bootstrap: Literal["consent"] | None = None
    consented_by: Ids | None = None
    meeting_id: UUID | None = None

    def basis(self) -> DecisionBasis:
        """The decision's basis, as the use cases take it."""
        return DecisionBasis(
            decision_rule_id=self.decision_rule_id,
            bootstrap=self.bootstrap,
            consented_by=tuple(self.consented_by or ()),
        )


class DecisionView(msgspec.Struct, frozen=True, kw_only=True):
    """The rule a decision was made under: `rule` is its title then (or "bootstrap consent"),
    `rule_id` and `rule_version` the decision-rule agreement and its stream version then (null
    for bootstrap consent and for decisions recorded before rules were named by id); `present`
    is who attended the meeting named, `consented_by` who consented to a bootstrap."""

    rule: str
    rule_id: UUID | None
    rule_version: int | None
    present: list[UUID]
    consented_by: list[UUID]

    @classmethod
    def of(cls, d: Decision | None) -> DecisionView | None:
        """The decision as the API shows it."""
        if d is None:
            return None
        return cls(
            rule=d.rule,
            rule_id=d.rule_id,
            rule_version=d.rule_version,
            present=list(d.present),
            consented_by=list(d.consented_by),
        )


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
