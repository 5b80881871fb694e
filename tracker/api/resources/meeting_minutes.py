"""Minutes: a meeting's attendance, decisions and commitments, recorded at once, all or nothing."""

from __future__ import annotations

import uuid
from uuid import UUID

from litestar import Controller, Response
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep
from tracker.api.resources.common import post_command, replayed
from tracker.api.resources.meeting_schemas import AttendanceBody, Minutes, MinutesRecorded
from tracker.application.commands import Request
from tracker.application.external import keyed_id, reference_id
from tracker.application.minutes import (
    AttendanceLine,
    CommitmentLine,
    DecisionLine,
    TakeMinutes,
    minuted_as,
    take_minutes,
)


def item_id(call: Request, kind: str, index: int) -> UUID:
    """A new item's id; with a retry key it is derived, so a replay names the same items."""
    return keyed_id(call, kind, index) or uuid.uuid4()


def _commitment_id(call: Request, body: Minutes, index: int) -> UUID:
    """As POST /commitments would derive it from source_system and external_id, if given."""
    line = body.commitments[index]
    if line.external_id is not None and body.source_system is not None:
        return reference_id(body.source_system, line.external_id)
    return item_id(call, "commitments", index)


def attendance_of(body: AttendanceBody | Minutes) -> tuple[AttendanceLine, ...]:
    """The attendees a body lists, as the use cases take them."""
    lines = body.attendees if isinstance(body, AttendanceBody) else body.attendance
    return tuple(
        AttendanceLine(
            leader_id=a.leader_id,
            status=a.status,
            organisation_id=a.organisation_id,
            title=a.title,
        )
        for a in lines
    )


def _minutes(call: Request, meeting_id: UUID, body: Minutes) -> TakeMinutes:
    """The minutes as a command, every new decision and commitment with its id."""
    decisions = tuple(
        DecisionLine(
            decision_id=d.decision_id or item_id(call, "decisions", i), text=d.text, basis=d.basis()
        )
        for i, d in enumerate(body.decisions)
    )
    commitments = tuple(
        CommitmentLine(
            commitment_id=_commitment_id(call, body, i),
            owner_id=line.owner_id,
            description=line.description,
            purpose_ids=tuple(line.purpose_ids),
            due_on=line.due_on,
            external_id=line.external_id,
            requester_id=line.requester_id,
        )
        for i, line in enumerate(body.commitments)
    )
    return TakeMinutes(
        meeting_id=meeting_id,
        attendance=attendance_of(body),
        decisions=decisions,
        commitments=commitments,
        source_system=body.source_system,
    )


class MinutesController(Controller):
    """A meeting's minutes; stewards, admins and recorders keep the record."""

    path = "/meetings"
    tags = ("meetings",)

    @post_command(
        "/{meeting_id:uuid}/minutes",
        operation_id="recordMeetingMinutes",
        summary="Record attendance, decisions and commitments at once: all or nothing",
    )
    async def record_minutes(
        self, meeting_id: FromPath[UUID], data: JSONBody[Minutes], call: Call, commands: CommandsDep
    ) -> Response[MinutesRecorded]:
        """One atomic append to the meeting and a new stream per commitment.

        A scheduled meeting is opened first. Every item is checked before anything is written;
        a 422 lists each refused item in `items`.

        Each commitment is made under one of two rules, and its item in the answer says which
        (`case`). `made_in_room`: the minutes (or the attendance already recorded) show its
        owner attended, so it is active at once, made by them, with no acceptance needed.
        `proposed_to_absent`: its owner was absent or sent apologies, so it starts proposed and
        waits for them to accept, decline or counter-offer. The requester is the attendee the
        line names in `requester_id` (a 422 names the field if they did not attend), or nobody.
        Whoever posts the minutes is kept as the commitment's `recorded_by`, never as its
        requester or maker.
        """
        command = _minutes(call, meeting_id, data)
        saved = await take_minutes(commands, call, command)
        ids = [c.commitment_id for c in command.commitments]
        cases = await minuted_as(commands.repository, ids)
        decision_ids = [d.decision_id for d in command.decisions]
        result = MinutesRecorded.of(saved, meeting_id, cases, decision_ids)
        return Response(result, status_code=200, headers=replayed(saved))
