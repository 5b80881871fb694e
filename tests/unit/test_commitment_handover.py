"""Handing a commitment over: exactly one accountable owner, until the new one accepts (rule 2)."""

import pytest

from tracker.domain import Commitment, IllegalTransition, InvalidValue, NotAllowed


def offered(given, people):
    commitment = given("active")
    commitment.offer_handover(by=people.owner, to_id=people.successor, note="New role")
    commitment.collect_events()
    return commitment


def test_the_owner_offers_a_handover_and_stays_accountable(given, people):
    commitment = given("active")

    commitment.offer_handover(by=people.owner, to_id=people.successor)

    [offer] = commitment.collect_events()
    assert isinstance(offer, Commitment.HandoverOffered)
    assert offer.to_id == people.successor
    assert commitment.handover_pending
    assert commitment.owner_id == people.owner


def test_only_the_owner_offers_a_handover(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").offer_handover(by=people.requester, to_id=people.successor)
    assert refused.value.rule == "only-owner-can-offer-handover"


def test_a_commitment_cannot_be_handed_to_its_owner(given, people):
    with pytest.raises(InvalidValue) as refused:
        given("active").offer_handover(by=people.owner, to_id=people.owner)
    assert refused.value.field == "to_id"


def test_one_handover_offer_at_a_time(given, people):
    commitment = offered(given, people)

    with pytest.raises(IllegalTransition) as refused:
        commitment.offer_handover(by=people.owner, to_id=people.stranger)

    assert refused.value.state == "handover_pending"


def test_a_proposed_commitment_cannot_be_handed_over(given, people):
    with pytest.raises(IllegalTransition):
        given("proposed").offer_handover(by=people.owner, to_id=people.successor)


def test_the_new_owner_accepting_makes_them_accountable(given, people):
    commitment = offered(given, people)

    commitment.accept_handover(by=people.successor)

    [accepted] = commitment.collect_events()
    assert isinstance(accepted, Commitment.HandoverAccepted)
    assert commitment.owner_id == people.successor
    assert not commitment.handover_pending


def test_only_the_offered_leader_accepts_a_handover(given, people):
    with pytest.raises(NotAllowed) as refused:
        offered(given, people).accept_handover(by=people.stranger)
    assert refused.value.rule == "only-offered-leader-can-accept-handover"


def test_the_offered_leader_declines_and_the_owner_keeps_it(given, people):
    commitment = offered(given, people)

    commitment.decline_handover(by=people.successor, reason="No budget")

    [declined] = commitment.collect_events()
    assert isinstance(declined, Commitment.HandoverDeclined)
    assert commitment.owner_id == people.owner
    assert not commitment.handover_pending


def test_only_the_offered_leader_declines_a_handover(given, people):
    with pytest.raises(NotAllowed) as refused:
        offered(given, people).decline_handover(by=people.owner)
    assert refused.value.rule == "only-offered-leader-can-decline-handover"


def test_the_owner_withdraws_a_handover_offer(given, people):
    commitment = offered(given, people)

    commitment.withdraw_handover(by=people.owner)

    [withdrawn] = commitment.collect_events()
    assert isinstance(withdrawn, Commitment.HandoverWithdrawn)
    assert not commitment.handover_pending


def test_only_the_owner_withdraws_a_handover_offer(given, people):
    with pytest.raises(NotAllowed) as refused:
        offered(given, people).withdraw_handover(by=people.successor)
    assert refused.value.rule == "only-owner-can-withdraw-handover"


@pytest.mark.parametrize("command", ["accept_handover", "decline_handover", "withdraw_handover"])
def test_there_is_no_handover_to_answer_until_one_is_offered(given, people, command):
    with pytest.raises(IllegalTransition):
        getattr(given("active"), command)(by=people.successor)


def test_until_the_handover_is_accepted_only_the_old_owner_can_complete(given, people):
    commitment = offered(given, people)

    with pytest.raises(NotAllowed):
        commitment.complete(by=people.successor)
    commitment.complete(by=people.owner)

    assert commitment.status == "completed"
    assert not commitment.handover_pending


def test_after_the_handover_only_the_new_owner_can_complete(given, people):
    commitment = offered(given, people)
    commitment.accept_handover(by=people.successor)

    with pytest.raises(NotAllowed):
        commitment.complete(by=people.owner)
    commitment.complete(by=people.successor)

    assert commitment.status == "completed"
