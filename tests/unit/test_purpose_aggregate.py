"""Purposes: proposed, revised with a reason, endorsed across organisations, adopted, retired."""

from uuid import uuid4

import pytest

from tracker.domain import AffiliationSnapshot, IllegalTransition, InvalidValue, Purpose

PROPOSER = uuid4()
TRUST = AffiliationSnapshot(uuid4(), "Northfield Community NHS Trust", "Director of Nursing")


@pytest.fixture
def purpose(replayed):
    statement = "Fewer older people admitted to hospital in a crisis"
    return replayed(Purpose.propose(uuid4(), uuid4(), statement, by=PROPOSER))


@pytest.fixture
def adopted(purpose):
    purpose.adopt("consent")
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


def test_a_purpose_is_adopted_naming_the_decision_rule(purpose):
    meeting = uuid4()

    purpose.adopt("consent", meeting_id=meeting)

    [adopted] = purpose.collect_events()
    assert isinstance(adopted, Purpose.Adopted)
    assert (adopted.decision_rule, adopted.meeting_id) == ("consent", meeting)
    assert purpose.status == "adopted"


def test_adoption_names_a_decision_rule(purpose):
    with pytest.raises(InvalidValue):
        purpose.adopt("")


def test_a_purpose_is_adopted_once(adopted):
    with pytest.raises(IllegalTransition):
        adopted.adopt("consent")


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
        ("adopt", ("consent",)),
        ("retire", ("Again",)),
    ],
)
def test_a_retired_purpose_is_not_changed(purpose, command, arguments):
    purpose.retire("Superseded")

    with pytest.raises(IllegalTransition) as refused:
        getattr(purpose, command)(*arguments)

    assert refused.value.state == "retired"
