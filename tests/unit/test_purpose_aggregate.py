"""Purposes: proposed, revised with a reason, endorsed across organisations, adopted, retired."""

from uuid import uuid4

import pytest

from tracker.domain import AffiliationSnapshot, IllegalTransition, InvalidValue, Purpose
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision

PROPOSER = uuid4()
CONSENT = Decision("Consent of members present", uuid4(), 2)
TRUST = AffiliationSnapshot(uuid4(), "Northfield Community NHS Trust", "Director of Nursing")


@pytest.fixture
def purpose(replayed):
    statement = "Fewer older people admitted to hospital in a crisis"
    return replayed(Purpose.propose(uuid4(), uuid4(), statement, by=PROPOSER))


@pytest.fixture
def adopted(purpose):
    purpose.adopt(CONSENT)
    purpose.collect_events()
    return purpose


def test_a_purpose_is_proposed_to_a_forum():
    forum = uuid4()

    purpose = Purpose.propose(uuid4(), forum, "Warm homes for everyone", by=PROPOSER)

    [proposed] = purpose.collect_events()
    assert isinstance(proposed, Purpose.Proposed)
    assert (proposed.forum_id, proposed.proposed_by) == (forum, PROPOSER)
    assert purpose.status == "proposed"


def test_a_purpose_needs_a_statement():
    with pytest.raises(InvalidValue):
        Purpose.propose(uuid4(), uuid4(), "", by=PROPOSER)


def test_a_purpose_is_revised_with_a_reason(purpose):
    purpose.revise(PROPOSER, "Fewer crisis admissions of people over 75", "Sharper focus")

    [revised] = purpose.collect_events()
    assert isinstance(revised, Purpose.Revised)
    assert revised.reason == "Sharper focus"
    assert purpose.revisions == 1


def test_a_revision_needs_a_reason(purpose):
    with pytest.raises(InvalidValue) as refused:
        purpose.revise(PROPOSER, "Something else", "")
    assert refused.value.field == "reason"


def test_a_revision_must_change_the_statement(purpose):
    with pytest.raises(InvalidValue):
        purpose.revise(PROPOSER, purpose.statement, "No change")


def test_a_leader_endorses_with_their_affiliation_kept_for_context(purpose):
    leader = uuid4()

    purpose.endorse(leader, TRUST)

    [endorsed] = purpose.collect_events()
    assert isinstance(endorsed, Purpose.Endorsed)
    assert endorsed.affiliation == TRUST
    assert purpose.endorsements == {leader: TRUST}


def test_a_leader_endorses_only_once(purpose):
    purpose.endorse(PROPOSER)

    with pytest.raises(InvalidValue):
        purpose.endorse(PROPOSER)


def test_an_endorsement_is_withdrawn(purpose):
    purpose.endorse(PROPOSER, TRUST)

    purpose.withdraw_endorsement(PROPOSER)

    assert isinstance(purpose.collect_events()[-1], Purpose.EndorsementWithdrawn)
    assert purpose.endorsements == {}


def test_only_a_given_endorsement_can_be_withdrawn(purpose):
    with pytest.raises(InvalidValue):
        purpose.withdraw_endorsement(PROPOSER)


def test_a_purpose_is_adopted_naming_the_rule_its_version_and_who_was_present(purpose):
    meeting, present = uuid4(), (uuid4(),)
    decision = Decision("Consent of members present", uuid4(), 4, present)

    purpose.adopt(decision, meeting_id=meeting)

    [adopted] = purpose.collect_events()
    assert isinstance(adopted, Purpose.Adopted)
    assert (adopted.decision_rule, adopted.meeting_id) == (decision.rule, meeting)
    assert (adopted.decision_rule_id, adopted.decision_rule_version) == (decision.rule_id, 4)
    assert adopted.present == present
    assert (purpose.status, purpose.decision) == ("adopted", decision)


def test_adoption_names_a_rule_by_id(purpose):
    with pytest.raises(InvalidValue) as refused:
        purpose.adopt(Decision("Because Helen said so"))

    assert refused.value.field == "decision_rule_id"


def test_a_purpose_is_never_adopted_by_bootstrap_consent(purpose):
    with pytest.raises(InvalidValue) as refused:
        purpose.adopt(Decision(BOOTSTRAP_CONSENT, consented_by=(PROPOSER,)))

    assert refused.value.field == "bootstrap"


def test_an_adoption_recorded_before_rules_were_named_by_id_still_replays():
    state = {"decision_rule": "Because Helen said so", "meeting_id": None}

    Purpose.Adopted.upcast_v1_v2(state)

    assert (state["decision_rule_id"], state["decision_rule_version"]) == (None, None)
    assert state["present"] == []


def test_a_purpose_is_adopted_once(adopted):
    with pytest.raises(IllegalTransition):
        adopted.adopt(CONSENT)


def test_an_adopted_purpose_can_still_be_revised_and_endorsed(adopted):
    adopted.revise(PROPOSER, "A clearer statement", "Board feedback")
    adopted.endorse(uuid4(), TRUST)

    assert len(adopted.collect_events()) == 2


def test_a_purpose_is_retired_with_a_reason(adopted):
    adopted.retire("Achieved")

    [retired] = adopted.collect_events()
    assert isinstance(retired, Purpose.Retired)
    assert adopted.is_retired


def test_retiring_needs_a_reason(purpose):
    with pytest.raises(InvalidValue):
        purpose.retire("")


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("revise", (PROPOSER, "New", "Why")),
        ("endorse", (PROPOSER,)),
        ("withdraw_endorsement", (PROPOSER,)),
        ("adopt", (CONSENT,)),
        ("retire", ("Again",)),
    ],
)
def test_a_retired_purpose_is_not_changed(purpose, command, arguments):
    purpose.retire("Superseded")

    with pytest.raises(IllegalTransition) as refused:
        getattr(purpose, command)(*arguments)

    assert refused.value.state == "retired"
