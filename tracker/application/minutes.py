"""Minutes: a meeting's attendance, decisions and commitments, checked whole and saved as one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from tracker.application import policy, reads
from tracker.application.clock import Now, today_in
from tracker.application.commands import Commands, Request, at_version
from tracker.application.commitments import MakeCommitment, Minuted, minuted_commitment
from tracker.application.decisions import DecisionBasis, meeting_decision
from tracker.application.external import owned
from tracker.application.ports import Repository, Saved
from tracker.application.references import exists, referenced
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
from tracker.domain.meeting import ATTENDED, OPEN, SCHEDULED


class AttendanceLine(msgspec.Struct, frozen=True, kw_only=True):
    """One leader who attended, or sent apologies, and the role they came in, if named."""

    leader_id: UUID
    status: Literal["attended", "apologies"]
    organisation_id: UUID | None = None
    title: str | None = None


class DecisionLine(msgspec.Struct, frozen=True, kw_only=True):
    """A decision, under the id it was given, and the rule it was made under."""

    decision_id: UUID
    text: str
    basis: DecisionBasis = DecisionBasis()


class CommitmentLine(msgspec.Struct, frozen=True, kw_only=True):
    """A commitment made at the meeting; an external id names it in another system."""

    commitment_id: UUID
    owner_id: UUID
    description: str
    purpose_ids: tuple[UUID, ...]
    due_on: date | None = None
    external_id: str | None = None
    requester_id: UUID | None = None


class TakeMinutes(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a meeting recorded; all of it is written, or none of it."""

    meeting_id: UUID
    attendance: tuple[AttendanceLine, ...] = ()
    decisions: tuple[DecisionLine, ...] = ()
    commitments: tuple[CommitmentLine, ...] = ()
    source_system: str | None = None


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
    repository: Repository,
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
            leader = await referenced(repository, Leader, line.leader_id, "leader_id")
            held = leader.role_on(day, line.organisation_id, line.title)
            snapshot = None
            if held is not None:
                organisation = await referenced(
                    repository, Organisation, held.organisation_id, "leader_id"
                )
                snapshot = held.snapshot(organisation.name)
            attendees.append(Attendance(leader.id, line.status, snapshot))
        except InvalidValue as error:
            errors.append(_refusal(list_name, index, error))
    return attendees


async def take_minutes(app: Commands, call: Request, command: TakeMinutes) -> Saved:
    """The meeting and every new commitment, saved in one append if every item is valid."""

    async def build() -> list[Aggregate]:
        return await minutes_taken(app.repository, app.now, call, command)

    return await app.create(call, build)


async def minutes_taken(
    repository: Repository, now: Now, call: Request, command: TakeMinutes
) -> list[Aggregate]:
    """The meeting and every new commitment, changed in memory only if every item is valid.

    A scheduled meeting is opened first, since minutes record a meeting that took place.
    """
    # Before If-Match is judged, so a 412 never tells an integration of another forum's meeting.
    await reads.reachable(repository, call.principal, Meeting, command.meeting_id)
    meeting = await at_version(repository, Meeting, command.meeting_id, call.if_match)
    forum = await repository.read(Forum, meeting.forum_id)
    policy.steward(call.principal, forum, "record-minutes")
    owned(call.principal, command.source_system)
    require_state("record_minutes", meeting.status, SCHEDULED, OPEN)
    if not (command.attendance or command.decisions or command.commitments):
        raise InvalidValue("minutes", "record at least one attendee, decision or commitment")
    if meeting.status == SCHEDULED:
        meeting.open()
    errors: list[ItemError] = []
    present = await attendance(repository, meeting, forum, command.attendance, "attendance", errors)
    if present and not errors:
        meeting.record_attendance(present)
    for index, line in enumerate(command.decisions):
        try:
            decided = await meeting_decision(repository, forum, line.basis, meeting)
            meeting.record_decision(line.decision_id, line.text, decided, forum.has_decision_rule)
        except InvalidValue as error:
            errors.append(_refusal("decisions", index, error))
    attended = _attended(meeting, present)
    made = await _commitments(repository, now, call, forum, meeting, command, attended, errors)
    if errors:
        raise InvalidItems(errors)
    return [meeting, *made]


def _attended(meeting: Meeting, present: Sequence[Attendance]) -> frozenset[UUID]:
    """Who the meeting's record, with these minutes, shows as attending (not apologies)."""
    attendance = {**meeting.attendance, **{a.leader_id: a for a in present}}
    return frozenset(i for i, a in attendance.items() if a.presence == ATTENDED)


async def _commitments(
    repository: Repository,
    now: Now,
    call: Request,
    forum: Forum,
    meeting: Meeting,
    command: TakeMinutes,
    attended: frozenset[UUID],
    errors: list[ItemError],
) -> list[Aggregate]:
    """Each commitment, checked as one made alone; an attending owner's is active at once, an
    absent one's proposed to them; the caller is its recorder. Refusals go to errors."""
    made: list[Aggregate] = []
    taken: set[UUID] = set()
    for index, line in enumerate(command.commitments):
        try:
            if line.external_id is not None:
                await _unrecorded(repository, command, line.commitment_id, taken)
            minuted = Minuted(
                attended=attended, recorded_by=call.principal.actor, requester_id=line.requester_id
            )
            making = _made_at(meeting, line)
            made.append(await minuted_commitment(repository, now, forum, making, minuted))
        except (InvalidValue, NotAllowed) as error:
            errors.append(_refusal("commitments", index, error))
    return made


def _made_at(meeting: Meeting, line: CommitmentLine) -> MakeCommitment:
    """A commitment line as the command to make it, at the meeting."""
    return MakeCommitment(
        commitment_id=line.commitment_id,
        forum_id=meeting.forum_id,
        owner_id=line.owner_id,
        description=line.description,
        purpose_ids=line.purpose_ids,
        due_on=line.due_on,
        meeting_id=meeting.id,
    )


async def _unrecorded(
    repository: Repository, command: TakeMinutes, commitment_id: UUID, taken: set[UUID]
) -> None:
    """An external_id names one commitment, once: not twice in the minutes, nor already saved."""
    if command.source_system is None:
        raise InvalidValue("external_id", "needs the minutes' source_system")
    if commitment_id in taken:
        raise InvalidValue("external_id", "appears twice in these minutes")
    taken.add(commitment_id)
    if await exists(repository, Commitment, commitment_id):
        raise InvalidValue("external_id", f"already recorded as commitment {commitment_id}")


async def minuted_as(
    repository: Repository, commitment_ids: Sequence[UUID]
) -> list[tuple[UUID, str]]:
    """How each commitment of saved minutes was made: in the room, or proposed to the absent."""
    cases = []
    for commitment_id in commitment_ids:
        commitment = await repository.read(Commitment, commitment_id)
        cases.append((commitment_id, commitment.minuted_as or ""))
    return cases
