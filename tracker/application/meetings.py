"""Meetings: scheduling, and the record a forum's stewards, admins and recorders keep of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

import msgspec

from tracker.application import policy, reads
from tracker.application.commands import Commands, Request
from tracker.application.decisions import DecisionBasis, meeting_decision
from tracker.application.minutes import AttendanceLine, InvalidItems, ItemError, attendance
from tracker.application.ports import Saved
from tracker.application.references import visible_forum
from tracker.domain import Forum, InvalidValue, Meeting


class ScheduleMeeting(msgspec.Struct, frozen=True, kw_only=True):
    """Schedule a meeting of a forum."""

    meeting_id: UUID
    forum_id: UUID
    title: str
    starts_at: datetime
    location: str | None = None


class Invite(msgspec.Struct, frozen=True, kw_only=True):
    """Invite members of the meeting's forum."""

    meeting_id: UUID
    leader_ids: tuple[UUID, ...]


class RecordAttendance(msgspec.Struct, frozen=True, kw_only=True):
    """Who attended and who sent apologies."""

    meeting_id: UUID
    attendees: tuple[AttendanceLine, ...]


class RecordDecision(msgspec.Struct, frozen=True, kw_only=True):
    """A decision of an open meeting."""

    meeting_id: UUID
    decision_id: UUID
    text: str
    basis: DecisionBasis = DecisionBasis()


class MeetingStep(msgspec.Struct, frozen=True, kw_only=True):
    """Open a meeting, or finalise its record: nothing to say but which meeting."""

    meeting_id: UUID


class ReasonedStep(msgspec.Struct, frozen=True, kw_only=True):
    """Reopen a record, or cancel a meeting, with a reason."""

    meeting_id: UUID
    reason: str


Act = Callable[[Meeting, Forum], Awaitable[None] | None]


async def schedule(app: Commands, call: Request, command: ScheduleMeeting) -> Saved:
    """The forum must exist, and the caller be allowed to run its business."""
    policy.writer(call.principal)

    async def build() -> list[Meeting]:
        forum = await visible_forum(app.repository, call.principal, command.forum_id, "forum_id")
        policy.steward(call.principal, forum, "schedule-meetings")
        c = command
        return [Meeting.schedule(c.meeting_id, forum.id, c.title, c.starts_at, c.location or "")]

    return await app.create(call, build)


async def keep_record(app: Commands, call: Request, meeting_id: UUID, rule: str, act: Act) -> Saved:
    """Record-keeping is for the forum's stewards, admins and recorders."""

    async def step(meeting: Meeting) -> None:
        forum = await app.repository.read(Forum, meeting.forum_id)
        policy.steward(call.principal, forum, rule)
        outcome = act(meeting, forum)
        if outcome is not None:
            await outcome

    await reads.reachable(app.repository, call.principal, Meeting, meeting_id)
    return await app.update(call, Meeting, meeting_id, step)


async def invite(app: Commands, call: Request, command: Invite) -> Saved:
    """Only members of the meeting's forum can be invited."""

    def act(meeting: Meeting, forum: Forum) -> None:
        outsiders = [str(i) for i in command.leader_ids if not forum.is_member(i)]
        if outsiders:
            raise InvalidValue("leader_ids", f"not members of the forum: {', '.join(outsiders)}")
        meeting.invite(list(command.leader_ids))

    return await keep_record(app, call, command.meeting_id, "invite", act)


async def record_attendance(app: Commands, call: Request, command: RecordAttendance) -> Saved:
    """Each attendee's organisation and title on the meeting's date are kept with it."""

    async def act(meeting: Meeting, forum: Forum) -> None:
        errors: list[ItemError] = []
        lines = command.attendees
        present = await attendance(app.repository, meeting, forum, lines, "attendees", errors)
        if errors:
            raise InvalidItems(errors)
        meeting.record_attendance(present)

    return await keep_record(app, call, command.meeting_id, "record-attendance", act)


async def open_meeting(app: Commands, call: Request, command: MeetingStep) -> Saved:
    """The meeting has begun: attendance and decisions can now be recorded."""
    act: Act = lambda m, _: m.open()  # noqa: E731
    return await keep_record(app, call, command.meeting_id, "open-meetings", act)


async def record_decision(app: Commands, call: Request, command: RecordDecision) -> Saved:
    """A decision, under the id the command gives it, naming the forum's rule in force if it
    has one; whoever the meeting records as attending is kept with it."""

    async def act(meeting: Meeting, forum: Forum) -> None:
        decided = await meeting_decision(app.repository, forum, command.basis, meeting)
        c = command
        meeting.record_decision(c.decision_id, c.text, decided, forum.has_decision_rule)

    return await keep_record(app, call, command.meeting_id, "record-decisions", act)


async def finalise(app: Commands, call: Request, command: MeetingStep) -> Saved:
    """Each finalisation is a new record version."""
    act: Act = lambda m, _: m.finalise_record()  # noqa: E731
    return await keep_record(app, call, command.meeting_id, "finalise-records", act)


async def reopen(app: Commands, call: Request, command: ReasonedStep) -> Saved:
    """The meeting is open again until its record is finalised anew."""
    act: Act = lambda m, _: m.reopen(command.reason)  # noqa: E731
    return await keep_record(app, call, command.meeting_id, "reopen-records", act)


async def cancel(app: Commands, call: Request, command: ReasonedStep) -> Saved:
    """Only a scheduled meeting can be cancelled."""
    act: Act = lambda m, _: m.cancel(command.reason)  # noqa: E731
    return await keep_record(app, call, command.meeting_id, "cancel-meetings", act)
