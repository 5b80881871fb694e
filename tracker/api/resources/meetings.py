"""Meetings: scheduling, invitations, attendance, decisions, a versioned record, and minutes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Literal, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep, RepositoryDep
from tracker.api.problems import FieldError, Problem, Refused, problem
from tracker.api.resources.commitments import MakeCommitment, make_commitment
from tracker.api.resources.common import (
    EXTERNAL_IDS,
    READ_ERRORS,
    created,
    new_id,
    post_command,
    post_creation,
    recorded,
    referenced,
    replayed,
    state,
)
from tracker.api.schemas import (
    AffiliationView,
    Command,
    Creation,
    ExternalId,
    Ids,
    Name,
    Reasoned,
    Recorded,
    Text,
)
from tracker.api.time_travel import AsOfQuery
from tracker.application import minutes, policy
from tracker.application.commands import Commands
from tracker.application.commands import Request as CommandRequest
from tracker.application.minutes import InvalidItems, ItemError, Reference
from tracker.application.ports import Repository, Saved
from tracker.audit.as_of import get_as_of
from tracker.domain import Attendance, Commitment, Forum, InvalidValue, Meeting
from tracker.eventstore.repository import AggregateNotFound

PATH = "/meetings"
MAX_ITEMS = 200

A = TypeVar("A", bound=Aggregate)

AwareDateTime = Annotated[datetime, msgspec.Meta(tz=True)]
Bounded = msgspec.Meta(max_length=MAX_ITEMS)


class ScheduleMeeting(Creation, frozen=True, kw_only=True):
    """Schedule a meeting of a forum; starts_at must carry its UTC offset."""

    forum_id: UUID
    title: Name
    starts_at: AwareDateTime
    location: Name | None = None


class Invitation(Command, frozen=True, kw_only=True):
    """Members of the meeting's forum to invite; those already invited are skipped."""

    leader_ids: Ids


class Attendee(Command, frozen=True, kw_only=True):
    """One leader who attended, or sent apologies."""

    leader_id: UUID
    status: Literal["attended", "apologies"]


class AttendanceBody(Command, frozen=True, kw_only=True):
    """Who attended and who sent apologies; the server snapshots each one's affiliation."""

    attendees: Annotated[list[Attendee], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]


class Decision(Command, frozen=True, kw_only=True):
    """A decision; give decision_id to name it yourself, or the server assigns one."""

    decision_id: UUID | None = None
    text: Text


class MinutesCommitment(Command, frozen=True, kw_only=True):
    """A commitment made at the meeting, under the same rules as POST /commitments."""

    owner_id: UUID
    description: Text
    purpose_ids: Ids
    due_on: date | None = None
    external_id: ExternalId | None = None


class Minutes(Command, frozen=True, kw_only=True):
    """Everything a meeting recorded; all of it is written, or none of it."""

    attendance: Annotated[list[Attendee], Bounded] = msgspec.field(default_factory=list)
    decisions: Annotated[list[Decision], Bounded] = msgspec.field(default_factory=list)
    commitments: Annotated[list[MinutesCommitment], Bounded] = msgspec.field(default_factory=list)
    source_system: ExternalId | None = None


class MinutesRecorded(msgspec.Struct, frozen=True, kw_only=True):
    """Where minutes landed: the meeting (null if only commitments were made) and each commitment.

    `commitments` and `decision_ids` follow the request's order; a commitment's `stream_id` is
    its new id.
    """

    meeting: Recorded | None
    commitments: list[Recorded]
    decision_ids: list[UUID]
    replayed: bool = False

    @classmethod
    def of(
        cls, saved: Saved, meeting_id: UUID, commitment_ids: list[UUID], decision_ids: list[UUID]
    ) -> MinutesRecorded:
        """The result of one save of minutes, or of its replay."""
        touched = any(e.stream_id == meeting_id for e in saved.events)
        return cls(
            meeting=Recorded.of(saved, meeting_id) if touched else None,
            commitments=[Recorded.of(saved, c) for c in commitment_ids],
            decision_ids=decision_ids,
            replayed=saved.replayed,
        )


class AttendeeState(msgspec.Struct, frozen=True, kw_only=True):
    """One attendee as recorded."""

    leader_id: UUID
    status: str
    affiliation: AffiliationView | None

    @classmethod
    def of(cls, a: Attendance) -> AttendeeState:
        """The public view of one attendance."""
        affiliation = AffiliationView.of(a.affiliation)
        return cls(leader_id=a.leader_id, status=a.presence, affiliation=affiliation)


class DecisionState(msgspec.Struct, frozen=True, kw_only=True):
    """A decision as recorded."""

    decision_id: UUID
    text: str


class MeetingState(msgspec.Struct, frozen=True, kw_only=True):
    """A meeting as it stands now, loaded from its own stream."""

    id: UUID
    version: int
    forum_id: UUID
    title: str
    starts_at: datetime
    location: str
    status: str
    record_version: int
    invited: list[UUID]
    attendance: list[AttendeeState]
    decisions: list[DecisionState]
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, m: Meeting) -> MeetingState:
        """The public view of the aggregate."""
        return cls(
            id=m.id,
            version=m.version,
            forum_id=m.forum_id,
            title=m.title,
            starts_at=m.starts_at,
            location=m.location,
            status=m.status,
            record_version=m.record_version,
            invited=sorted(m.invited),
            attendance=[AttendeeState.of(a) for a in m.attendance.values()],
            decisions=[DecisionState(decision_id=d, text=t) for d, t in m.decisions.items()],
            created_on=m.created_on,
            modified_on=m.modified_on,
        )


def _lookup(repository: Repository) -> Reference:
    async def lookup(cls: type[A], aggregate_id: UUID, field: str) -> A:
        return await referenced(repository, cls, aggregate_id, field)

    return lookup


def _item_id(call: CommandRequest, kind: str, index: int) -> UUID:
    """A new item's id; with a retry key it is derived, so a replay names the same items."""
    if call.key is None:
        return uuid.uuid4()
    return uuid.uuid5(EXTERNAL_IDS, f"key:{call.key}:{kind}:{index}")


def _commitment_id(call: CommandRequest, body: Minutes, index: int) -> UUID:
    """As POST /commitments would derive it from source_system and external_id, if given."""
    line = body.commitments[index]
    if line.external_id is not None and body.source_system is not None:
        return uuid.uuid5(EXTERNAL_IDS, f"{body.source_system}:{line.external_id}")
    return _item_id(call, "commitments", index)


async def _itemised(saving: Awaitable[Saved]) -> Saved:
    """Await a save, turning refused items into one 422 that lists every one of them."""
    try:
        return await saving
    except InvalidItems as refused:
        raise Refused(_items_problem(refused.items)) from None


def _items_problem(items: list[ItemError]) -> Problem:
    errors = [
        FieldError(f"{i.list}[{i.index}]" + (f".{i.field}" if i.field else ""), i.message)
        for i in items
    ]
    fields = ", ".join(e.field for e in errors)
    return problem(
        422,
        "invalid-items",
        "Invalid items",
        f"nothing was written; invalid: {fields}",
        items=items,
        errors=errors,
    )


class MeetingController(Controller):
    """A forum's meetings; stewards, admins and recorders keep the record."""

    path = PATH
    tags = ("meetings",)

    @post_creation(
        operation_id="scheduleMeeting",
        summary="Schedule a meeting of a forum (a steward, an admin or a recorder)",
    )
    async def schedule(
        self, data: JSONBody[ScheduleMeeting], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The forum must exist; source_system + external_id fix the new meeting's id."""
        policy.writer(call.principal)
        meeting_id, call = new_id(data, call)

        async def build() -> list[Meeting]:
            forum = await referenced(commands.repository, Forum, data.forum_id, "forum_id")
            policy.steward(call.principal, forum, "schedule-meetings")
            location = data.location or ""
            return [Meeting.schedule(meeting_id, forum.id, data.title, data.starts_at, location)]

        return created(await commands.create(call, build), meeting_id, PATH)

    @get(
        "/{meeting_id:uuid}",
        operation_id="getMeeting",
        summary="Get a meeting's current state",
        responses=READ_ERRORS,
    )
    async def get_meeting(
        self, meeting_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
    ) -> Response[MeetingState]:
        """Loaded from its own stream, so always consistent; the ETag is its version."""
        meeting = await get_as_of(repository, Meeting, meeting_id, as_of)
        return state(MeetingState.of(meeting), meeting.version)  # type: ignore[return-value]

    async def _keep_record(
        self,
        call: CommandRequest,
        commands: Commands,
        meeting_id: UUID,
        command: str,
        act: Callable[[Meeting, Forum], Awaitable[None] | None],
    ) -> Response[Recorded]:
        """Record-keeping is for the forum's stewards, admins and recorders."""

        async def step(meeting: Meeting) -> None:
            forum = await commands.repository.read(Forum, meeting.forum_id)
            policy.steward(call.principal, forum, command)
            outcome = act(meeting, forum)
            if outcome is not None:
                await outcome

        saved = await _itemised(commands.update(call, Meeting, meeting_id, step))
        return recorded(saved, meeting_id)

    @post_command(
        "/{meeting_id:uuid}/invitations",
        operation_id="inviteToMeeting",
        summary="Invite members of the forum",
    )
    async def invite(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Invitation],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Only members of the meeting's forum can be invited."""

        def act(meeting: Meeting, forum: Forum) -> None:
            outsiders = [str(i) for i in data.leader_ids if not forum.is_member(i)]
            if outsiders:
                raise InvalidValue(
                    "leader_ids", f"not members of the forum: {', '.join(outsiders)}"
                )
            meeting.invite(data.leader_ids)

        return await self._keep_record(call, commands, meeting_id, "invite", act)

    @post_command(
        "/{meeting_id:uuid}/attendance",
        operation_id="recordMeetingAttendance",
        summary="Record who attended and who sent apologies",
    )
    async def record_attendance(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[AttendanceBody],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Each attendee's organisation and title on the meeting's date are kept with it."""
        lookup = _lookup(commands.repository)

        async def act(meeting: Meeting, forum: Forum) -> None:
            errors: list[ItemError] = []
            present = await minutes.attendance(
                lookup, meeting, forum, data.attendees, "attendees", errors
            )
            if errors:
                raise InvalidItems(errors)
            meeting.record_attendance(present)

        return await self._keep_record(call, commands, meeting_id, "record-attendance", act)

    @post_command(
        "/{meeting_id:uuid}/opening",
        operation_id="openMeeting",
        summary="Open a scheduled meeting",
    )
    async def open_meeting(
        self, meeting_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The meeting has begun: attendance and decisions can now be recorded."""
        return await self._keep_record(
            call, commands, meeting_id, "open-meetings", lambda m, _: m.open()
        )

    @post_command(
        "/{meeting_id:uuid}/decisions",
        operation_id="recordMeetingDecision",
        summary="Record a decision of an open meeting",
    )
    async def record_decision(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Decision],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Without a decision_id the server assigns one; GET the meeting to see it."""
        decision_id = data.decision_id or _item_id(call, "decisions", 0)
        act = lambda m, _: m.record_decision(decision_id, data.text)  # noqa: E731
        return await self._keep_record(call, commands, meeting_id, "record-decisions", act)

    @post_command(
        "/{meeting_id:uuid}/record",
        operation_id="finaliseMeetingRecord",
        summary="Finalise the record as its next version",
    )
    async def finalise(
        self, meeting_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Each finalisation is a new record_version; reopen to correct it."""
        return await self._keep_record(
            call, commands, meeting_id, "finalise-records", lambda m, _: m.finalise_record()
        )

    @post_command(
        "/{meeting_id:uuid}/reopening",
        operation_id="reopenMeetingRecord",
        summary="Reopen a finalised record for correction, with a reason",
    )
    async def reopen(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The meeting is open again until its record is finalised anew."""
        act = lambda m, _: m.reopen(data.reason)  # noqa: E731
        return await self._keep_record(call, commands, meeting_id, "reopen-records", act)

    @post_command(
        "/{meeting_id:uuid}/cancellation",
        operation_id="cancelMeeting",
        summary="Cancel a meeting that has not begun, with a reason",
    )
    async def cancel(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Only a scheduled meeting can be cancelled."""
        act = lambda m, _: m.cancel(data.reason)  # noqa: E731
        return await self._keep_record(call, commands, meeting_id, "cancel-meetings", act)

    @post_command(
        "/{meeting_id:uuid}/minutes",
        operation_id="recordMeetingMinutes",
        summary="Record attendance, decisions and commitments at once: all or nothing",
    )
    async def record_minutes(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Minutes],
        call: Call,
        commands: CommandsDep,
        state: State,
    ) -> Response[MinutesRecorded]:
        """One atomic append to the meeting and a new stream per commitment.

        A scheduled meeting is opened first. Every item is checked before anything is written;
        a 422 lists each refused item in `items`. A leader's own commitment is active; one
        recorded for anyone else starts proposed.
        """
        repository = commands.repository
        decision_ids = [
            d.decision_id or _item_id(call, "decisions", i) for i, d in enumerate(data.decisions)
        ]
        commitment_ids = [_commitment_id(call, data, i) for i in range(len(data.commitments))]
        lines = list(zip(commitment_ids, data.commitments, strict=True))
        taken: set[UUID] = set()

        async def make(meeting: Meeting, item: tuple[UUID, MinutesCommitment]) -> Commitment:
            commitment_id, line = item
            if line.external_id is not None:
                await _unrecorded(repository, data, commitment_id, taken)
            body = MakeCommitment(
                forum_id=meeting.forum_id,
                owner_id=line.owner_id,
                description=line.description,
                purpose_ids=line.purpose_ids,
                due_on=line.due_on,
                meeting_id=meeting.id,
            )
            return await make_commitment(repository, state.now, call.principal, body, commitment_id)

        async def build() -> list[Aggregate]:
            return await minutes.take_minutes(
                repository,
                _lookup(repository),
                call.principal,
                meeting_id,
                if_match=call.if_match,
                attendees=data.attendance,
                decisions=list(zip(decision_ids, (d.text for d in data.decisions), strict=True)),
                commitments=lines,
                make=make,
            )

        saved = await _itemised(commands.create(call, build))
        result = MinutesRecorded.of(saved, meeting_id, commitment_ids, decision_ids)
        return Response(result, status_code=200, headers=replayed(saved))


async def _unrecorded(
    repository: Repository, body: Minutes, commitment_id: UUID, taken: set[UUID]
) -> None:
    """An external_id names one commitment, once: not twice in the minutes, nor already saved."""
    if body.source_system is None:
        raise InvalidValue("external_id", "needs the minutes' source_system")
    if commitment_id in taken:
        raise InvalidValue("external_id", "appears twice in these minutes")
    taken.add(commitment_id)
    try:
        await repository.read(Commitment, commitment_id)
    except AggregateNotFound:
        return
    raise InvalidValue("external_id", f"already recorded as commitment {commitment_id}")
