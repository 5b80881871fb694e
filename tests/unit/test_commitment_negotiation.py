"""Agreeing the terms of a proposed commitment: accept, decline, counter-offer, withdraw."""

from datetime import timedelta

import pytest

from tracker.domain import Commitment, IllegalTransition, InvalidValue, NotAllowed


def test_the_owner_accepts_a_proposed_commitment(given, people):
    commitment = given("proposed")

    commitment.accept(by=people.owner)

    [accepted] = commitment.collect_events()
    assert isinstance(accepted, Commitment.Accepted)
    assert accepted.by == people.owner
    assert commitment.status == "active"


def test_only_the_owner_can_accept(given, people):
    commitment = given("proposed")

    with pytest.raises(NotAllowed) as refused:
        commitment.accept(by=people.requester)

    assert refused.value.rule == "only-owner-can-accept"
    assert refused.value.by == people.requester
    assert commitment.collect_events() == []


def test_an_active_commitment_cannot_be_accepted_again(given, people):
    commitment = given("active")

    with pytest.raises(IllegalTransition) as refused:
        commitment.accept(by=people.owner)

    assert (refused.value.command, refused.value.state) == ("accept", "active")


def test_the_owner_declines_a_proposed_commitment_with_a_reason(given, people):
    commitment = given("proposed")

    commitment.decline(by=people.owner, reason="No capacity until the autumn")

    [declined] = commitment.collect_events()
    assert isinstance(declined, Commitment.Declined)
    assert declined.reason == "No capacity until the autumn"
    assert commitment.status == "declined"


def test_declining_needs_a_reason(given, people):
    with pytest.raises(InvalidValue) as refused:
        given("proposed").decline(by=people.owner, reason="")
    assert refused.value.field == "reason"


def test_only_the_owner_can_decline(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("proposed").decline(by=people.stranger, reason="Not mine")
    assert refused.value.rule == "only-owner-can-decline"


def test_an_active_commitment_cannot_be_declined(given, people):
    with pytest.raises(IllegalTransition):
        given("active").decline(by=people.owner, reason="Changed my mind")


def test_the_owner_counter_offers_different_terms(given, people):
    commitment = given("proposed")
    later = commitment.due_on + timedelta(days=30)

    commitment.counter_offer(by=people.owner, due_on=later, note="After the audit")

    [offered] = commitment.collect_events()
    assert isinstance(offered, Commitment.CounterOffered)
    assert (offered.due_on, offered.description) == (later, commitment.description)
    assert commitment.status == "proposed"
    assert commitment.counter_offer_pending


def test_a_counter_offer_must_change_the_terms(given, people):
    commitment = given("proposed")

    with pytest.raises(InvalidValue) as refused:
        commitment.counter_offer(by=people.owner, due_on=commitment.due_on)

    assert refused.value.field == "terms"


def test_a_counter_offer_needs_a_requester_to_answer_it(given, people):
    commitment = given("proposed", requester=False)

    with pytest.raises(NotAllowed) as refused:
        commitment.counter_offer(by=people.owner, due_on=None)

    assert refused.value.rule == "counter-offer-needs-a-requester"


def test_only_the_owner_can_counter_offer(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("proposed").counter_offer(by=people.requester, due_on=None)
    assert refused.value.rule == "only-owner-can-counter-offer"


def test_a_counter_offer_cannot_set_a_due_date_before_the_day_made(given, people):
    commitment = given("proposed")

    with pytest.raises(InvalidValue) as refused:
        commitment.counter_offer(by=people.owner, due_on=commitment.made_on - timedelta(days=1))

    assert refused.value.field == "due_on"


def test_the_requester_accepting_a_counter_offer_makes_the_commitment_active_on_its_terms(
    given, people
):
    commitment = given("proposed")
    later = commitment.due_on + timedelta(days=30)
    commitment.counter_offer(by=people.owner, due_on=later, description="Share a monthly extract")
    commitment.collect_events()

    commitment.accept_counter_offer(by=people.requester)

    [accepted] = commitment.collect_events()
    assert isinstance(accepted, Commitment.CounterOfferAccepted)
    assert commitment.status == "active"
    assert (commitment.description, commitment.due_on) == ("Share a monthly extract", later)
    assert commitment.renegotiation_count == 0


def test_an_accepted_counter_offer_is_what_was_agreed_and_the_request_is_kept(given, people):
    commitment = given("proposed")
    asked = (commitment.description, commitment.due_on)
    later = commitment.due_on + timedelta(days=30)
    commitment.counter_offer(by=people.owner, due_on=later, description="Share a monthly extract")
    assert commitment.agreed is None

    commitment.accept_counter_offer(by=people.requester)

    assert commitment.asked_for == asked
    assert commitment.agreed == ("Share a monthly extract", later)
    assert commitment.original_due_on == asked[1]


def test_renegotiation_changes_the_current_terms_and_keeps_what_was_asked_and_agreed(given, people):
    commitment = given("active", requester=False)
    asked = (commitment.description, commitment.due_on)
    later = commitment.due_on + timedelta(days=14)

    commitment.renegotiate(
        by=people.owner, reason="the data sharing agreement is late", due_on=later
    )

    assert commitment.due_on == later
    assert commitment.asked_for == commitment.agreed == asked
    assert commitment.original_due_on == asked[1]


def test_a_request_accepted_as_asked_is_agreed_on_those_terms(given, people):
    commitment = given("proposed")
    assert commitment.agreed is None

    commitment.accept(by=people.owner)

    assert commitment.agreed == commitment.asked_for == (commitment.description, commitment.due_on)


def test_a_correction_before_renegotiation_corrects_the_agreed_terms_not_a_request_countered(
    given, people
):
    commitment = given("proposed")
    asked = commitment.asked_for
    offered = commitment.due_on + timedelta(days=30)
    commitment.counter_offer(by=people.owner, due_on=offered)
    commitment.accept_counter_offer(by=people.requester)
    typo_fixed = offered + timedelta(days=1)

    commitment.correct_record(by=people.owner, reason="typed the wrong day", due_on=typo_fixed)

    assert commitment.asked_for == asked
    assert commitment.agreed == (commitment.description, typo_fixed)


def test_only_the_requester_can_accept_a_counter_offer(given, people):
    commitment = given("proposed")
    commitment.counter_offer(by=people.owner, due_on=None)

    with pytest.raises(NotAllowed) as refused:
        commitment.accept_counter_offer(by=people.owner)

    assert refused.value.rule == "only-requester-can-accept-counter-offer"


def test_there_is_no_counter_offer_to_accept_until_one_is_made(given, people):
    with pytest.raises(IllegalTransition) as refused:
        given("proposed").accept_counter_offer(by=people.requester)
    assert refused.value.command == "accept_counter_offer"


def test_the_owner_accepting_the_original_terms_sets_aside_their_counter_offer(given, people):
    commitment = given("proposed")
    due_on = commitment.due_on
    commitment.counter_offer(by=people.owner, due_on=None)

    commitment.accept(by=people.owner)

    assert commitment.due_on == due_on
    assert not commitment.counter_offer_pending


def test_the_requester_withdraws_a_proposed_commitment(given, people):
    commitment = given("proposed")

    commitment.withdraw(by=people.requester, reason="Another team has it")

    [withdrawn] = commitment.collect_events()
    assert isinstance(withdrawn, Commitment.Withdrawn)
    assert commitment.status == "withdrawn"


def test_only_the_requester_can_withdraw(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("proposed").withdraw(by=people.owner)
    assert refused.value.rule == "only-requester-or-steward-can-withdraw"


def test_a_steward_cannot_withdraw_for_a_requester(given, people):
    with pytest.raises(NotAllowed):
        given("proposed").withdraw(by=people.steward, by_steward=True)


def test_a_steward_withdraws_when_there_is_no_requester(given, people):
    commitment = given("proposed", requester=False)

    commitment.withdraw(by=people.steward, by_steward=True)

    assert commitment.status == "withdrawn"


def test_an_active_commitment_cannot_be_withdrawn(given, people):
    with pytest.raises(IllegalTransition):
        given("active").withdraw(by=people.requester)
