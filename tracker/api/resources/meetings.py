"""Meetings: scheduling, invitations, attendance, decisions, a versioned record, and minutes."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep, PrincipalDep, RepositoryDep
from tracker.api.resources.common import (
    READ_ERRORS,
    created,
    new_id,
    post_command,
    post_creation,
    recorded,
    state,
)
from tracker.api.resources.meeting_minutes import attendance_of, item_id
from tracker.api.resources.meeting_schemas import (
    AttendanceBody,
    Decision,
    Invitation,
    MeetingState,
    ScheduleMeeting,
)
from tracker.api.schemas import Reasoned, Recorded
from tracker.api.time_travel import AsOfQuery, read_as_of
from tracker.application import bounds, meetings
from tracker.domain import Meeting

PATH = "/meetings"


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
        meeting_id, call = new_id(data, call)
        command = meetings.ScheduleMeeting(
            meeting_id=meeting_id,
            forum_id=data.forum_id,
            title=data.title,
            starts_at=data.starts_at,
            location=data.location,
        )
        return created(await meetings.schedule(commands, call, command), meeting_id, PATH)

    @get(
        "/{meeting_id:uuid}",
        operation_id="getMeeting",
        summary="Get a meeting's current state",
        description=(
            "Loaded from its own stream, so always consistent; the ETag is its version. "
            f"`invited` (by leader id) and `attendance` (in the order recorded) list at most "
            f"{bounds.ATTENDANCE} leaders each, and `decisions` the first {bounds.DECISIONS} "
            "in the order recorded; "
            "`invited_total`, `attendance_total` and `decisions_total` count them in full. "
            "All of them: the meeting's stream (`/streams/{meeting_id}/events`), and the "
            "decisions a page at a time in the meeting view (`/meetings/{meeting_id}/view`)."
        ),
        responses=READ_ERRORS,
    )
    async def get_meeting(
        self,
        meeting_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        as_of: AsOfQuery = None,
    ) -> Response[MeetingState]:
        """Loaded from its own stream, so always consistent; the ETag is its version."""
        meeting = await read_as_of(repository, principal, Meeting, meeting_id, as_of)
        return state(MeetingState.of(meeting), meeting.version)  # type: ignore[return-value]

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
        command = meetings.Invite(meeting_id=meeting_id, leader_ids=tuple(data.leader_ids))
        return recorded(await meetings.invite(commands, call, command), meeting_id)

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
        command = meetings.RecordAttendance(meeting_id=meeting_id, attendees=attendance_of(data))
        return recorded(await meetings.record_attendance(commands, call, command), meeting_id)

    @post_command(
        "/{meeting_id:uuid}/opening",
        operation_id="openMeeting",
        summary="Open a scheduled meeting",
    )
    async def open_meeting(
        self, meeting_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The meeting has begun: attendance and decisions can now be recorded."""
        command = meetings.MeetingStep(meeting_id=meeting_id)
        return recorded(await meetings.open_meeting(commands, call, command), meeting_id)

    @post_command(
        "/{meeting_id:uuid}/decisions",
        operation_id="recordMeetingDecision",
        summary="Record a decision of an open meeting, under the forum's rule in force",
    )
    async def record_decision(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Decision],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Without a decision_id the server assigns one; GET the meeting to see it. A forum with
        a decision rule in force names it by `decision_rule_id` (an adopted, not rescinded,
        forum-scoped decision-rule agreement of the forum); a missing one, or one not in force,
        is a 422 naming `decision_rule_id`. A forum with no rule in force records the decision
        under none, or by bootstrap consent of every member present."""
        decision_id = data.decision_id or item_id(call, "decisions", 0)
        command = meetings.RecordDecision(
            meeting_id=meeting_id, decision_id=decision_id, text=data.text, basis=data.basis()
        )
        return recorded(await meetings.record_decision(commands, call, command), meeting_id)

    @post_command(
        "/{meeting_id:uuid}/record",
        operation_id="finaliseMeetingRecord",
        summary="Finalise the record as its next version",
    )
    async def finalise(
        self, meeting_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Each finalisation is a new record_version; reopen to correct it."""
        command = meetings.MeetingStep(meeting_id=meeting_id)
        return recorded(await meetings.finalise(commands, call, command), meeting_id)

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
        command = meetings.ReasonedStep(meeting_id=meeting_id, reason=data.reason)
        return recorded(await meetings.reopen(commands, call, command), meeting_id)

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
        command = meetings.ReasonedStep(meeting_id=meeting_id, reason=data.reason)
        return recorded(await meetings.cancel(commands, call, command), meeting_id)
