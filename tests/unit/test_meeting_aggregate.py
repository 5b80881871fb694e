"""Meetings: scheduled, invitations, attendance with affiliations, decisions, a versioned record."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from tests.decisions import BOOTSTRAP, RULED
from tracker.domain import AffiliationSnapshot, Attendance, IllegalTransition, InvalidValue, Meeting

STARTS_AT = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
COUNCIL = AffiliationSnapshot(uuid4(), "Northfield Council", "Director of Public Health")


@pytest.fixture
def meeting(replayed):
    return replayed(Meeting.schedule(uuid4(), uuid4(), "March partnership board", STARTS_AT))


@pytest.fixture
def opened(meeting):
    meeting.open()
    meeting.collect_events()
    return meeting


@pytest.fixture
def finalised(opened):
    opened.finalise_record()
    opened.collect_events()
    return opened


def test_a_meeting_is_scheduled_for_a_forum():
    forum = uuid4()

    meeting = Meeting.schedule(uuid4(), forum, "Board", STARTS_AT, location="Town Hall")

    [scheduled] = meeting.collect_events()
    assert isinstance(scheduled, Meeting.Scheduled)
    assert (scheduled.forum_id, scheduled.location) == (forum, "Town Hall")
    assert meeting.status == "scheduled"


def test_a_meeting_time_includes_its_timezone():
    with pytest.raises(InvalidValue) as refused:
        Meeting.schedule(uuid4(), uuid4(), "Board", datetime(2025, 3, 12, 10, 0))
    assert refused.value.field == "starts_at"


def test_a_scheduled_event_from_before_locations_is_upcast_with_no_location():
    state = {"forum_id": uuid4(), "title": "Board", "starts_at": STARTS_AT}

    Meeting.Scheduled.upcast_v1_v2(state)

    assert state["location"] == ""
    assert Meeting.Scheduled.class_version == 2


def test_leaders_are_invited(meeting):
    leaders = (uuid4(), uuid4())

    meeting.invite(leaders)

    [invited] = meeting.collect_events()
    assert isinstance(invited, Meeting.Invited)
    assert invited.leader_ids == leaders


def test_only_leaders_not_yet_invited_are_invited_again(meeting):
    first, second = uuid4(), uuid4()
    meeting.invite([first])
    meeting.collect_events()

    meeting.invite([first, second])

    [invited] = meeting.collect_events()
    assert invited.leader_ids == (second,)


def test_inviting_no_one_new_is_refused(meeting):
    leader = uuid4()
    meeting.invite([leader])

    with pytest.raises(InvalidValue):
        meeting.invite([leader])


def test_a_meeting_opens(meeting):
    meeting.open()

    assert isinstance(meeting.collect_events()[-1], Meeting.Opened)
    assert meeting.status == "open"


def test_attendance_is_recorded_with_each_affiliation(opened):
    present, absent = uuid4(), uuid4()
    attendees = [Attendance(present, "attended", COUNCIL), Attendance(absent, "apologies")]

    opened.record_attendance(attendees)

    [recorded] = opened.collect_events()
    assert isinstance(recorded, Meeting.AttendanceRecorded)
    assert recorded.attendees == tuple(attendees)
    assert opened.attendance[present].affiliation == COUNCIL


def test_attendance_is_attended_or_apologies(opened):
    with pytest.raises(InvalidValue) as refused:
        opened.record_attendance([Attendance(uuid4(), "late")])
    assert refused.value.field == "presence"


def test_a_leader_appears_once_in_an_attendance_record(opened):
    leader = uuid4()

    with pytest.raises(InvalidValue):
        opened.record_attendance([Attendance(leader, "attended"), Attendance(leader, "apologies")])


def test_attendance_is_recorded_only_while_open(meeting):
    with pytest.raises(IllegalTransition) as refused:
        meeting.record_attendance([Attendance(uuid4(), "attended")])
    assert refused.value.state == "scheduled"


def test_a_decision_is_recorded(opened):
    decision = uuid4()

    opened.record_decision(decision, "Adopt the falls prevention pathway")

    [recorded] = opened.collect_events()
    assert isinstance(recorded, Meeting.DecisionRecorded)
    assert opened.decisions == {decision: "Adopt the falls prevention pathway"}


def test_a_decision_is_recorded_once(opened):
    decision = uuid4()
    opened.record_decision(decision, "Adopt it")

    with pytest.raises(InvalidValue):
        opened.record_decision(decision, "Adopt it again")


def test_a_decision_keeps_the_rule_in_force_it_was_made_under(opened):
    decision = uuid4()

    opened.record_decision(decision, "Pool the rotas", RULED, rule_in_force=True)

    [recorded] = opened.collect_events()
    assert (recorded.decision_rule_id, recorded.decision_rule_version) == (
        RULED.rule_id,
        RULED.rule_version,
    )
    assert opened.decided_under[decision] == RULED


def test_a_forum_with_a_rule_in_force_names_it_for_every_decision(opened):
    for unruled in (None, BOOTSTRAP):
        with pytest.raises(InvalidValue) as refused:
            opened.record_decision(uuid4(), "Pool the rotas", unruled, rule_in_force=True)
        assert refused.value.field == "decision_rule_id"
    assert opened.collect_events() == []


def test_a_forum_with_no_rule_yet_decides_under_none_or_by_bootstrap_consent(opened):
    plain, consented = uuid4(), uuid4()

    opened.record_decision(plain, "Meet monthly")
    opened.record_decision(consented, "Adopt consent", BOOTSTRAP)

    assert opened.decided_under == {plain: None, consented: BOOTSTRAP}


def test_a_decision_from_before_rules_were_named_is_upcast_under_none():
    state = {"decision_id": uuid4(), "text": "Pool the rotas"}

    Meeting.DecisionRecorded.upcast_v1_v2(state)

    assert (state["decision_rule"], state["decision_rule_id"], state["present"]) == (None, None, [])
    assert Meeting.DecisionRecorded.class_version == 2


def test_decisions_are_recorded_only_while_open(finalised):
    with pytest.raises(IllegalTransition):
        finalised.record_decision(uuid4(), "Late decision")


def test_finalising_the_record_gives_it_version_one(opened):
    opened.finalise_record()

    [finalised] = opened.collect_events()
    assert isinstance(finalised, Meeting.RecordFinalised)
    assert finalised.record_version == 1
    assert opened.status == "finalised"


def test_a_scheduled_meeting_has_no_record_to_finalise(meeting):
    with pytest.raises(IllegalTransition):
        meeting.finalise_record()


def test_a_finalised_record_is_reopened_with_a_reason(finalised):
    finalised.reopen("Apologies from the police were missed")

    [reopened] = finalised.collect_events()
    assert isinstance(reopened, Meeting.Reopened)
    assert finalised.status == "open"


def test_reopening_needs_a_reason(finalised):
    with pytest.raises(InvalidValue):
        finalised.reopen("")


def test_each_finalisation_increments_the_record_version(finalised):
    finalised.reopen("Correction")
    finalised.finalise_record()

    assert finalised.collect_events()[-1].record_version == 2
    assert finalised.record_version == 2


def test_an_open_meeting_cannot_be_reopened(opened):
    with pytest.raises(IllegalTransition):
        opened.reopen("Why")


def test_a_scheduled_meeting_is_cancelled_with_a_reason(meeting):
    meeting.cancel("Not quorate")

    [cancelled] = meeting.collect_events()
    assert isinstance(cancelled, Meeting.Cancelled)
    assert meeting.status == "cancelled"


def test_a_meeting_that_has_begun_cannot_be_cancelled(opened):
    with pytest.raises(IllegalTransition):
        opened.cancel("Too late")


def test_a_cancelled_meeting_cannot_open(meeting):
    meeting.cancel("Snow")

    with pytest.raises(IllegalTransition) as refused:
        meeting.open()

    assert refused.value.state == "cancelled"
