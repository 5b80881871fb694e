"""Minutes: a meeting's attendance, decisions and commitments, checked whole and saved as one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from tracker.application import policy
from tracker.application.clock import today_in
from tracker.application.commands import at_version
from tracker.application.ports import Repository
from tracker.application.principal import Principal
from tracker.domain import (
    Attendance,
    Commitment,
    Forum,
    InvalidValue,
    Leader,
    Meeting,
    NotAllowed,
    Organisation,
)
from tracker.domain.checks import require_state
from tracker.domain.meeting import OPEN, SCHEDULED

# Commitments are made through `make`, which the API layer passes in (its make_commitment), so a
# commitment in minutes obeys exactly the rules of POST /commitments while this module imports
# neither the API nor the event store; `reference` likewise turns an unknown id into a field error.

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


class Reference(Protocol):
    """Load an aggregate a request names; an unknown id is an InvalidValue for that field."""

    def __call__(self, cls: type[A], aggregate_id: UUID, field: str) -> Awaitable[A]: ...


class AttendanceLine(Protocol):
    """One attendee as a request gives it."""

    @property
    def leader_id(self) -> UUID: ...

    @property
    def status(self) -> str: ...


class ItemError(msgspec.Struct, frozen=True, kw_only=True):
    """Why one item of a list was refused: the list, its index, the field (or rule) and why."""

    list: str
    index: int
    field: str | None
    message: str
    rule: str | None = None


class InvalidItems(Exception):
    """Some items of a request were refused, so none of it was written."""

    def __init__(self, items: Sequence[ItemError]) -> None:
        super().__init__(f"{len(items)} item(s) refused")
        self.items = list(items)


def _refusal(list_name: str, index: int, error: InvalidValue | NotAllowed) -> ItemError:
    if isinstance(error, NotAllowed):
        return ItemError(
            list=list_name, index=index, field=None, message=str(error), rule=error.rule
        )
    return ItemError(list=list_name, index=index, field=error.field, message=error.reason)


async def attendance(
    reference: Reference,
    meeting: Meeting,
    forum: Forum,
    lines: Sequence[AttendanceLine],
    list_name: str,
    errors: list[ItemError],
) -> list[Attendance]:
    """Each attendee with their affiliation on the meeting's local date; refusals go to errors."""
    require_state("record_attendance", meeting.status, OPEN)
    day = today_in(lambda: meeting.starts_at, forum.timezone)
    seen: set[UUID] = set()
    attendees = []
    for index, line in enumerate(lines):
        try:
            if line.leader_id in seen:
                raise InvalidValue("leader_id", "appears twice")
            seen.add(line.leader_id)
            leader = await reference(Leader, line.leader_id, "leader_id")
            held = leader.affiliation_on(day)
            snapshot = None
            if held is not None:
                organisation = await reference(Organisation, held.organisation_id, "leader_id")
                snapshot = held.snapshot(organisation.name)
            attendees.append(Attendance(leader.id, line.status, snapshot))
        except InvalidValue as error:
            errors.append(_refusal(list_name, index, error))
    return attendees


async def take_minutes(
    repository: Repository,
    reference: Reference,
    principal: Principal,
    meeting_id: UUID,
    *,
    if_match: int | None,
    attendees: Sequence[AttendanceLine],
    decisions: Sequence[tuple[UUID, str]],
    commitments: Sequence[T],
    make: Callable[[Meeting, T], Awaitable[Commitment]],
) -> list[Aggregate]:
    """The meeting and every new commitment, changed in memory only if every item is valid.

    A scheduled meeting is opened first, since minutes record a meeting that took place.
    """
    meeting = await at_version(repository, Meeting, meeting_id, if_match)
    forum = await repository.read(Forum, meeting.forum_id)
    policy.steward(principal, forum, "record-minutes")
    require_state("record_minutes", meeting.status, SCHEDULED, OPEN)
    if not (attendees or decisions or commitments):
        raise InvalidValue("minutes", "record at least one attendee, decision or commitment")
    if meeting.status == SCHEDULED:
        meeting.open()
    errors: list[ItemError] = []
    present = await attendance(reference, meeting, forum, attendees, "attendance", errors)
    if present and not errors:
        meeting.record_attendance(present)
    for index, (decision_id, text) in enumerate(decisions):
        try:
            meeting.record_decision(decision_id, text)
        except InvalidValue as error:
            errors.append(_refusal("decisions", index, error))
    made: list[Aggregate] = []
    for index, line in enumerate(commitments):
        try:
            made.append(await make(meeting, line))
        except (InvalidValue, NotAllowed) as error:
            errors.append(_refusal("commitments", index, error))
    if errors:
        raise InvalidItems(errors)
    return [meeting, *made]
