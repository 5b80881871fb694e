"""Progress (rule 6) and renegotiation (rule 4) of an active commitment."""

from datetime import timedelta

import pytest

from tracker.domain import Commitment, IllegalTransition, InvalidValue, NotAllowed


def test_the_owner_reports_progress_as_a_percentage(given, people):
    commitment = given("active")

    commitment.report_progress(by=people.owner, percent=40, note="Data agreement signed")

    [reported] = commitment.collect_events()
    assert isinstance(reported, Commitment.ProgressReported)
    assert (reported.percent, reported.note) == (40, "Data agreement signed")
    assert commitment.progress == 40


def test_progress_is_optional_until_reported(given):
    assert given("active").progress is None


@pytest.mark.parametrize("percent", [-1, 101])
def test_progress_is_between_0_and_100(given, people, percent):
    with pytest.raises(InvalidValue) as refused:
        given("active").report_progress(by=people.owner, percent=percent)
    assert refused.value.field == "percent"


def test_progress_may_go_down_with_a_note(given, people):
    commitment = given("active")
    commitment.report_progress(by=people.owner, percent=60)

    commitment.report_progress(by=people.owner, percent=30, note="Supplier pulled out")

    assert commitment.progress == 30


def test_progress_cannot_go_down_without_a_note(given, people):
    commitment = given("active")
    commitment.report_progress(by=people.owner, percent=60)

    with pytest.raises(InvalidValue) as refused:
        commitment.report_progress(by=people.owner, percent=30)

    assert refused.value.field == "note"


def test_only_the_owner_reports_progress(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").report_progress(by=people.requester, percent=10)
    assert refused.value.rule == "only-owner-can-report-progress"


@pytest.mark.parametrize("state", ["proposed", "completed", "released", "acknowledged"])
def test_progress_is_not_reported_unless_active(given, people, state):
    with pytest.raises(IllegalTransition) as refused:
        given(state).report_progress(by=people.owner, percent=10)
    assert refused.value.state == state


def test_without_a_requester_the_owner_renegotiates_alone(given, people):
    commitment = given("active", requester=False)
    original = commitment.due_on
    later = original + timedelta(days=14)

    commitment.renegotiate(by=people.owner, reason="Waiting on IG sign-off", due_on=later)

    [renegotiated] = commitment.collect_events()
    assert isinstance(renegotiated, Commitment.Renegotiated)
    assert renegotiated.reason == "Waiting on IG sign-off"
    assert commitment.due_on == later
    assert commitment.original_due_on == original
    assert commitment.renegotiation_count == 1


def test_renegotiation_needs_a_reason(given, people):
    commitment = given("active", requester=False)

    with pytest.raises(InvalidValue) as refused:
        commitment.renegotiate(by=people.owner, reason=" ", due_on=None)

    assert refused.value.field == "reason"


def test_renegotiation_needs_a_real_change(given, people):
    commitment = given("active", requester=False)

    with pytest.raises(InvalidValue) as refused:
        commitment.renegotiate(by=people.owner, reason="Busy", due_on=commitment.due_on)

    assert refused.value.field == "terms"


def test_renegotiation_may_change_the_description_alone(given, people):
    commitment = given("active", requester=False)

    commitment.renegotiate(
        by=people.owner, reason="Scope", due_on=commitment.due_on, description="Share it weekly"
    )

    assert commitment.description == "Share it weekly"


def test_renegotiation_cannot_move_the_due_date_before_the_day_made(given, people):
    commitment = given("active", requester=False)

    with pytest.raises(InvalidValue) as refused:
        commitment.renegotiate(
            by=people.owner, reason="Oops", due_on=commitment.made_on - timedelta(days=1)
        )

    assert refused.value.field == "due_on"


def test_only_the_owner_renegotiates(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").renegotiate(by=people.requester, reason="Sooner", due_on=None)
    assert refused.value.rule == "only-owner-can-renegotiate"


def test_with_a_requester_renegotiation_is_a_proposal_until_they_agree(given, people):
    commitment = given("active")
    original = commitment.due_on
    later = original + timedelta(days=14)

    commitment.renegotiate(by=people.owner, reason="Staff sickness", due_on=later)

    [proposed] = commitment.collect_events()
    assert isinstance(proposed, Commitment.RenegotiationProposed)
    assert commitment.renegotiation_pending
    assert commitment.due_on == original
    assert commitment.renegotiation_count == 0


def test_the_requester_agreeing_changes_the_terms_and_counts_a_renegotiation(given, people):
    commitment = given("active")
    original = commitment.due_on
    later = original + timedelta(days=14)
    commitment.renegotiate(by=people.owner, reason="Staff sickness", due_on=later)
    commitment.collect_events()

    commitment.agree_renegotiation(by=people.requester)

    [agreed] = commitment.collect_events()
    assert isinstance(agreed, Commitment.RenegotiationAgreed)
    assert not commitment.renegotiation_pending
    assert (commitment.due_on, commitment.original_due_on) == (later, original)
    assert commitment.renegotiation_count == 1


def test_the_requester_rejecting_keeps_the_current_terms(given, people):
    commitment = given("active")
    original = commitment.due_on
    commitment.renegotiate(by=people.owner, reason="Staff sickness", due_on=None)
    commitment.collect_events()

    commitment.reject_renegotiation(by=people.requester, reason="We need it for the board")

    [rejected] = commitment.collect_events()
    assert isinstance(rejected, Commitment.RenegotiationRejected)
    assert commitment.due_on == original
    assert commitment.renegotiation_count == 0
    assert not commitment.renegotiation_pending


@pytest.mark.parametrize("command", ["agree_renegotiation", "reject_renegotiation"])
def test_only_the_requester_answers_a_renegotiation(given, people, command):
    commitment = given("active")
    commitment.renegotiate(by=people.owner, reason="Staff sickness", due_on=None)

    with pytest.raises(NotAllowed) as refused:
        getattr(commitment, command)(by=people.owner)

    assert refused.value.rule == f"only-requester-can-{command.replace('_', '-')}"


@pytest.mark.parametrize("command", ["agree_renegotiation", "reject_renegotiation"])
def test_there_is_no_renegotiation_to_answer_until_one_is_proposed(given, people, command):
    with pytest.raises(IllegalTransition):
        getattr(given("active"), command)(by=people.requester)


def test_a_second_renegotiation_waits_for_the_first_to_be_answered(given, people):
    commitment = given("active")
    commitment.renegotiate(by=people.owner, reason="Staff sickness", due_on=None)

    with pytest.raises(IllegalTransition) as refused:
        commitment.renegotiate(by=people.owner, reason="And more", due_on=commitment.made_on)

    assert refused.value.state == "renegotiation_pending"


def test_a_completed_commitment_cannot_be_renegotiated(given, people):
    with pytest.raises(IllegalTransition):
        given("completed").renegotiate(by=people.owner, reason="Late", due_on=None)
