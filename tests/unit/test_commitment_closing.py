"""Finishing a commitment: who releases, completes, acknowledges, disputes, cancels (rule 3),
and nothing leaves a terminal state (rule 5)."""

import pytest

from tracker.domain import Commitment, IllegalTransition, InvalidValue, NotAllowed

TERMINAL = ["acknowledged", "released", "cancelled", "declined", "withdrawn"]


def test_the_owner_releases_a_commitment_with_a_reason(given, people):
    commitment = given("active")

    commitment.release(by=people.owner, reason="The programme was stopped")

    [released] = commitment.collect_events()
    assert isinstance(released, Commitment.Released)
    assert released.reason == "The programme was stopped"
    assert commitment.status == "released"


def test_releasing_needs_a_reason(given, people):
    with pytest.raises(InvalidValue) as refused:
        given("active").release(by=people.owner, reason="")
    assert refused.value.field == "reason"


def test_only_the_owner_releases(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").release(by=people.requester, reason="Not needed")
    assert refused.value.rule == "only-owner-can-release"


def test_releasing_drops_a_pending_handover(given, people):
    commitment = given("active")
    commitment.offer_handover(by=people.owner, to_id=people.successor)

    commitment.release(by=people.owner, reason="Post deleted")

    assert not commitment.handover_pending


def test_the_owner_completes_a_commitment(given, people):
    commitment = given("active")

    commitment.complete(by=people.owner, note="Extract live since Monday")

    [completed] = commitment.collect_events()
    assert isinstance(completed, Commitment.Completed)
    assert commitment.status == "completed"


def test_only_the_owner_completes(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("active").complete(by=people.requester)
    assert refused.value.rule == "only-owner-can-complete"


def test_a_proposed_commitment_cannot_be_completed(given, people):
    with pytest.raises(IllegalTransition):
        given("proposed").complete(by=people.owner)


def test_the_requester_acknowledges_completion(given, people):
    commitment = given("completed")

    commitment.acknowledge(by=people.requester)

    [acknowledged] = commitment.collect_events()
    assert isinstance(acknowledged, Commitment.Acknowledged)
    assert commitment.status == "acknowledged"


@pytest.mark.parametrize("by_steward", [False, True])
def test_only_the_requester_acknowledges_when_there_is_one(given, people, by_steward):
    with pytest.raises(NotAllowed) as refused:
        given("completed").acknowledge(by=people.steward, by_steward=by_steward)
    assert refused.value.rule == "only-requester-or-steward-can-acknowledge"


def test_a_steward_acknowledges_when_there_is_no_requester(given, people):
    commitment = given("completed", requester=False)

    commitment.acknowledge(by=people.steward, by_steward=True)

    assert commitment.status == "acknowledged"


def test_without_a_requester_a_non_steward_cannot_acknowledge(given, people):
    with pytest.raises(NotAllowed):
        given("completed", requester=False).acknowledge(by=people.owner)


def test_the_requester_disputes_completion_and_the_commitment_is_active_again(given, people):
    commitment = given("completed")

    commitment.dispute(by=people.requester, reason="Only half the wards are covered")

    [disputed] = commitment.collect_events()
    assert isinstance(disputed, Commitment.Disputed)
    assert commitment.status == "active"


def test_disputing_needs_a_reason(given, people):
    with pytest.raises(InvalidValue):
        given("completed").dispute(by=people.requester, reason="")


def test_only_the_requester_disputes(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("completed").dispute(by=people.owner, reason="Hmm")
    assert refused.value.rule == "only-requester-or-steward-can-dispute"


def test_a_steward_disputes_when_there_is_no_requester(given, people):
    commitment = given("completed", requester=False)

    commitment.dispute(by=people.steward, reason="Not evidenced", by_steward=True)

    assert commitment.status == "active"


def test_an_active_commitment_cannot_be_acknowledged(given, people):
    with pytest.raises(IllegalTransition):
        given("active").acknowledge(by=people.requester)


def test_the_requester_cancels_an_active_commitment_with_a_reason(given, people):
    commitment = given("active")

    commitment.cancel(by=people.requester, reason="The pilot was cancelled")

    [cancelled] = commitment.collect_events()
    assert isinstance(cancelled, Commitment.Cancelled)
    assert commitment.status == "cancelled"


def test_cancelling_needs_a_reason(given, people):
    with pytest.raises(InvalidValue):
        given("active").cancel(by=people.requester, reason="")


@pytest.mark.parametrize("role", ["owner", "steward", "stranger"])
def test_only_the_requester_cancels_when_there_is_one(given, people, role):
    with pytest.raises(NotAllowed) as refused:
        given("active").cancel(by=getattr(people, role), reason="No", by_steward=role == "steward")
    assert refused.value.rule == "only-requester-or-steward-can-cancel"


def test_a_steward_cancels_when_there_is_no_requester(given, people):
    commitment = given("active", requester=False)

    commitment.cancel(by=people.steward, reason="Forum wound up", by_steward=True)

    assert commitment.status == "cancelled"


def test_the_owner_reopens_a_completed_commitment(given, people):
    commitment = given("completed")

    commitment.reopen(by=people.owner, reason="Found a gap")

    [reopened] = commitment.collect_events()
    assert isinstance(reopened, Commitment.Reopened)
    assert commitment.status == "active"


def test_only_the_owner_reopens(given, people):
    with pytest.raises(NotAllowed) as refused:
        given("completed").reopen(by=people.requester)
    assert refused.value.rule == "only-owner-can-reopen"


def arguments(command, people):
    """Arguments from whoever the command would be allowed from in a live state."""
    owner, requester = people.owner, people.requester
    return {
        "accept": {"by": owner},
        "decline": {"by": owner, "reason": "r"},
        "withdraw": {"by": requester},
        "report_progress": {"by": owner, "percent": 50},
        "renegotiate": {"by": owner, "reason": "r", "due_on": None},
        "offer_handover": {"by": owner, "to_id": people.successor},
        "release": {"by": owner, "reason": "r"},
        "complete": {"by": owner},
        "acknowledge": {"by": requester},
        "dispute": {"by": requester, "reason": "r"},
        "cancel": {"by": requester, "reason": "r"},
        "reopen": {"by": owner},
        "link_purpose": {"by": owner, "purpose_id": people.successor},
        "unlink_purpose": {"by": owner, "purpose_id": people.successor},
    }[command]


COMMANDS = [
    "accept",
    "decline",
    "withdraw",
    "report_progress",
    "renegotiate",
    "offer_handover",
    "release",
    "complete",
    "acknowledge",
    "dispute",
    "cancel",
    "reopen",
    "link_purpose",
    "unlink_purpose",
]


@pytest.mark.parametrize("state", TERMINAL)
@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_moves_a_commitment_out_of_a_terminal_state(given, people, state, command):
    commitment = given(state)

    with pytest.raises(IllegalTransition) as refused:
        getattr(commitment, command)(**arguments(command, people))

    assert (refused.value.command, refused.value.state) == (command, state)
    assert commitment.collect_events() == []
