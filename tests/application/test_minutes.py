"""Minutes: every item checked under the rules of its own command, all saved or none."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

import pytest

from tests.application.conftest import RECORDER_CALL, Forum, as_leader
from tests.clock import Clock
from tracker.application import meetings
from tracker.application.commands import Commands, Request
from tracker.application.minutes import (
    AttendanceLine,
    CommitmentLine,
    DecisionLine,
    InvalidItems,
    TakeMinutes,
    take_minutes,
)
from tracker.domain import Commitment, Meeting, NotAllowed
from tracker.domain.meeting import OPEN
from tracker.eventstore.repository import Repository


async def scheduled(app: Commands, forum: Forum, clock: Clock) -> UUID:
    meeting_id = uuid.uuid4()
    command = meetings.ScheduleMeeting(
        meeting_id=meeting_id,
        forum_id=forum.id,
        title="Winter pressures",
        starts_at=clock() + timedelta(days=1),
    )
    await meetings.schedule(app, as_leader(forum.convenor), command)
    return meeting_id


def line(forum: Forum, owner: UUID, external_id: str | None = None) -> CommitmentLine:
    return CommitmentLine(
        commitment_id=uuid.uuid4(),
        owner_id=owner,
        description="Pool volunteer rotas",
        purpose_ids=(forum.purpose,),
        external_id=external_id,
    )


async def test_minutes_open_the_meeting_and_make_its_commitments(
    app: Commands, repository: Repository, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    made = line(forum, forum.member)
    minutes = TakeMinutes(
        meeting_id=meeting_id,
        attendance=(AttendanceLine(leader_id=forum.member, status="attended"),),
        decisions=(DecisionLine(decision_id=uuid.uuid4(), text="Pool the rotas"),),
        commitments=(made,),
    )
    await take_minutes(app, RECORDER_CALL, minutes)
    meeting = await repository.get(Meeting, meeting_id)
    commitment = await repository.get(Commitment, made.commitment_id)
    assert (meeting.status, len(meeting.decisions)) == (OPEN, 1)
    assert (commitment.meeting_id, commitment.forum_id) == (meeting_id, forum.id)


async def test_a_commitment_in_minutes_obeys_the_forum_membership_rule(
    app: Commands, repository: Repository, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    minutes = TakeMinutes(
        meeting_id=meeting_id,
        decisions=(DecisionLine(decision_id=uuid.uuid4(), text="Pool the rotas"),),
        commitments=(line(forum, forum.member), line(forum, forum.outsider)),
    )
    with pytest.raises(InvalidItems) as refused:
        await take_minutes(app, RECORDER_CALL, minutes)
    [item] = refused.value.items
    assert (item.list, item.index, item.field) == ("commitments", 1, "owner_id")
    assert (await repository.get(Meeting, meeting_id)).version == 1  # nothing was written


async def test_an_external_id_names_one_commitment_once(
    app: Commands, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    twice = line(forum, forum.member, "item-3")
    minutes = TakeMinutes(
        meeting_id=meeting_id,
        commitments=(twice, twice),
        source_system=RECORDER_CALL.principal.name,
    )
    with pytest.raises(InvalidItems) as refused:
        await take_minutes(app, RECORDER_CALL, minutes)
    assert [(i.index, i.message) for i in refused.value.items] == [
        (1, "appears twice in these minutes")
    ]


async def test_an_external_id_needs_the_minutes_source_system(
    app: Commands, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    minutes = TakeMinutes(meeting_id=meeting_id, commitments=(line(forum, forum.member, "x"),))
    with pytest.raises(InvalidItems) as refused:
        await take_minutes(app, RECORDER_CALL, minutes)
    assert refused.value.items[0].field == "external_id"


async def test_only_stewards_admins_and_recorders_take_minutes(
    app: Commands, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    minutes = TakeMinutes(meeting_id=meeting_id, commitments=(line(forum, forum.member),))
    with pytest.raises(NotAllowed) as refused:
        await take_minutes(app, as_leader(forum.member), minutes)
    assert refused.value.rule == "only-stewards-can-record-minutes"


async def test_attendance_lists_every_refused_attendee(
    app: Commands, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    await meetings.open_meeting(app, RECORDER_CALL, meetings.MeetingStep(meeting_id=meeting_id))
    attendees = (
        AttendanceLine(leader_id=forum.member, status="attended"),
        AttendanceLine(leader_id=uuid.uuid4(), status="apologies"),
        AttendanceLine(leader_id=forum.member, status="apologies"),
    )
    command = meetings.RecordAttendance(meeting_id=meeting_id, attendees=attendees)
    with pytest.raises(InvalidItems) as refused:
        await meetings.record_attendance(app, Request(principal=RECORDER_CALL.principal), command)
    assert [(i.index, i.field) for i in refused.value.items] == [(1, "leader_id"), (2, "leader_id")]
