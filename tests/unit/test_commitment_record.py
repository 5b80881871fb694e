"""Purposes cited, comments and reasoned corrections, which are allowed in any state (rule 5)."""

from datetime import timedelta
from uuid import uuid4

import pytest

from tracker.domain import Commitment, IllegalTransition, InvalidValue, NotAllowed

STATES = [
    "proposed",
    "active",
    "completed",
    "acknowledged",
    "released",
    "cancelled",
    "declined",
    "withdrawn",
]


def test_a_party_links_another_purpose(given, people):
    commitment = given("active")
    purpose = uuid4()

    commitment.link_purpose(by=people.requester, purpose_id=purpose)

    [linked] = commitment.collect_events()
    assert isinstance(linked, Commitment.PurposeLinked)
    assert purpose in commitment.purpose_ids


def test_a_steward_links_a_purpose(given, people):
    commitment = given("active")

    commitment.link_purpose(by=people.steward, purpose_id=uuid4(), by_steward=True)

    assert len(commitment.purpose_ids) == 2


def test_someone_unconnected_cannot_link_a_purpose(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").link_purpose(by=people.stranger, purpose_id=uuid4())
    assert refused.value.rule == "only-parties-or-stewards-can-link-purposes"


def test_a_retired_purpose_cannot_be_linked(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").link_purpose(by=people.owner, purpose_id=uuid4(), purpose_retired=True)
    assert refused.value.rule == "purpose-is-retired"


def test_a_purpose_is_linked_only_once(given, people):
    commitment = given("active")

    with pytest.raises(InvalidValue):
        commitment.link_purpose(by=people.owner, purpose_id=commitment.purpose_ids[0])


def test_a_purpose_can_be_linked_while_proposed(given, people):
    commitment = given("proposed")

    commitment.link_purpose(by=people.owner, purpose_id=uuid4())

    assert len(commitment.purpose_ids) == 2


def test_a_purpose_can_be_unlinked_while_another_remains(given, people):
    commitment = given("active")
    first = commitment.purpose_ids[0]
    commitment.link_purpose(by=people.owner, purpose_id=uuid4())
    commitment.collect_events()

    commitment.unlink_purpose(by=people.owner, purpose_id=first)

    [unlinked] = commitment.collect_events()
    assert isinstance(unlinked, Commitment.PurposeUnlinked)
    assert first not in commitment.purpose_ids


def test_the_last_purpose_cannot_be_unlinked(given, people):
    commitment = given("active")

    with pytest.raises(NotAllowed) as refused:
        commitment.unlink_purpose(by=people.owner, purpose_id=commitment.purpose_ids[0])

    assert refused.value.rule == "commitment-needs-a-purpose"


def test_a_purpose_not_cited_cannot_be_unlinked(given, people):
    with pytest.raises(InvalidValue):
        given("active").unlink_purpose(by=people.owner, purpose_id=uuid4())


def test_someone_unconnected_cannot_unlink_a_purpose(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").unlink_purpose(by=people.stranger, purpose_id=uuid4())
    assert refused.value.rule == "only-parties-or-stewards-can-unlink-purposes"


def test_purposes_cannot_change_once_completed(given, people):
    with pytest.raises(IllegalTransition):
        given("completed").link_purpose(by=people.owner, purpose_id=uuid4())


@pytest.mark.parametrize("state", STATES)
def test_anyone_can_comment_in_any_state(given, people, state):
    commitment = given(state)

    commitment.comment(by=people.stranger, text="Is there an update for the board?")

    [commented] = commitment.collect_events()
    assert isinstance(commented, Commitment.Commented)
    assert commented.by == people.stranger
    assert commitment.status == state


def test_a_comment_needs_text(given, people):
    with pytest.raises(InvalidValue):
        given("active").comment(by=people.owner, text="")


@pytest.mark.parametrize("state", STATES)
def test_the_record_can_be_corrected_in_any_state_with_a_reason(given, people, state):
    commitment = given(state)
    corrected_due = commitment.due_on + timedelta(days=1)

    commitment.correct_record(by=people.owner, reason="Typed up wrongly", due_on=corrected_due)

    [corrected] = commitment.collect_events()
    assert isinstance(corrected, Commitment.RecordCorrected)
    assert commitment.due_on == corrected_due
    assert commitment.status == state


def test_a_correction_needs_a_reason(given, people):
    with pytest.raises(InvalidValue) as refused:
        given("active").correct_record(by=people.owner, reason="", due_on=None)
    assert refused.value.field == "reason"


def test_a_correction_must_change_something(given, people):
    commitment = given("active")

    with pytest.raises(InvalidValue) as refused:
        commitment.correct_record(by=people.owner, reason="Check", due_on=commitment.due_on)

    assert refused.value.field == "terms"


def test_a_steward_corrects_the_record(given, people):
    commitment = given("active")

    commitment.correct_record(
        by=people.steward,
        reason="Spelling",
        due_on=commitment.due_on,
        description="Fixed",
        by_steward=True,
    )

    assert commitment.description == "Fixed"


def test_someone_unconnected_cannot_correct_the_record(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").correct_record(by=people.stranger, reason="Mine", due_on=None)
    assert refused.value.rule == "only-parties-or-stewards-can-correct-the-record"


def test_correcting_the_due_date_before_any_renegotiation_corrects_the_original_too(given, people):
    commitment = given("active")
    corrected_due = commitment.due_on + timedelta(days=1)

    commitment.correct_record(by=people.owner, reason="Typo", due_on=corrected_due)

    assert commitment.original_due_on == corrected_due
    assert commitment.renegotiation_count == 0


def test_a_correction_after_renegotiation_keeps_the_original_due_date(given, people):
    commitment = given("active", requester=False)
    original = commitment.due_on
    commitment.renegotiate(by=people.owner, reason="Delay", due_on=original + timedelta(days=7))

    commitment.correct_record(by=people.owner, reason="Typo", due_on=original + timedelta(days=8))

    assert commitment.original_due_on == original
    assert commitment.renegotiation_count == 1
