"""Agreements: decision rules, expectations and constraints of a forum or purpose."""

from uuid import uuid4

import pytest

from tracker.domain import Agreement, IllegalTransition, InvalidValue, NotAllowed

PROPOSER = uuid4()


def propose(kind="decision_rule", scope="forum"):
    return Agreement.propose(
        uuid4(), scope, uuid4(), kind, "How we decide", "By consent of members present", PROPOSER
    )


@pytest.fixture
def decision_rule(replayed):
    return replayed(propose())


@pytest.fixture
def adopted(decision_rule):
    decision_rule.adopt("consent")
    decision_rule.collect_events()
    return decision_rule


def test_an_agreement_is_proposed_for_a_forum():
    agreement = propose(kind="expectation")

    [proposed] = agreement.collect_events()
    assert isinstance(proposed, Agreement.Proposed)
    assert (proposed.scope, proposed.kind) == ("forum", "expectation")
    assert agreement.status == "proposed"


def test_an_agreement_may_be_scoped_to_a_purpose():
    assert propose(kind="constraint", scope="purpose").scope == "purpose"


def test_an_agreement_kind_is_a_decision_rule_expectation_or_constraint():
    with pytest.raises(InvalidValue) as refused:
        propose(kind="wish")
    assert refused.value.field == "kind"


def test_an_agreement_scope_is_a_forum_or_a_purpose():
    with pytest.raises(InvalidValue) as refused:
        propose(scope="organisation")
    assert refused.value.field == "scope"


def test_an_agreement_is_adopted_naming_the_decision_rule_and_meeting(decision_rule):
    meeting = uuid4()

    decision_rule.adopt("majority of members present", meeting_id=meeting)

    [adopted] = decision_rule.collect_events()
    assert isinstance(adopted, Agreement.Adopted)
    assert (adopted.decision_rule, adopted.meeting_id) == ("majority of members present", meeting)
    assert decision_rule.in_force


def test_adoption_names_a_decision_rule(decision_rule):
    with pytest.raises(InvalidValue):
        decision_rule.adopt(" ")


def test_a_forums_first_decision_rule_is_adopted_by_bootstrap_consent(decision_rule):
    decision_rule.adopt("bootstrap consent", forum_has_decision_rule=False)

    assert decision_rule.decision_rule == "bootstrap consent"


def test_bootstrap_consent_is_refused_once_the_forum_has_a_decision_rule(decision_rule):
    with pytest.raises(NotAllowed) as refused:
        decision_rule.adopt("bootstrap consent")
    assert refused.value.rule == "bootstrap-consent-only-for-first-decision-rule"


@pytest.mark.parametrize(
    ("kind", "scope"), [("expectation", "forum"), ("decision_rule", "purpose")]
)
def test_bootstrap_consent_is_only_for_a_forums_decision_rule(kind, scope):
    with pytest.raises(NotAllowed):
        propose(kind=kind, scope=scope).adopt("bootstrap consent", forum_has_decision_rule=False)


def test_an_agreement_is_adopted_once(adopted):
    with pytest.raises(IllegalTransition):
        adopted.adopt("consent")


def test_an_agreement_is_amended_with_a_reason(adopted):
    adopted.amend("By consent, with a quorum of five", "Quorum problems")

    [amended] = adopted.collect_events()
    assert isinstance(amended, Agreement.Amended)
    assert adopted.text == "By consent, with a quorum of five"
    assert adopted.amendments == 1


def test_an_amendment_needs_a_reason(adopted):
    with pytest.raises(InvalidValue) as refused:
        adopted.amend("New text", "")
    assert refused.value.field == "reason"


def test_an_amendment_must_change_the_text(adopted):
    with pytest.raises(InvalidValue):
        adopted.amend(adopted.text, "No change")


def test_an_adopted_agreement_is_rescinded_with_a_reason(adopted):
    adopted.rescind("Replaced by the new constitution")

    [rescinded] = adopted.collect_events()
    assert isinstance(rescinded, Agreement.Rescinded)
    assert not adopted.in_force


def test_a_proposed_agreement_cannot_be_rescinded(decision_rule):
    with pytest.raises(IllegalTransition):
        decision_rule.rescind("Never adopted")


@pytest.mark.parametrize(
    ("command", "arguments"),
    [("adopt", ("consent",)), ("amend", ("New", "Why")), ("rescind", ("Again",))],
)
def test_a_rescinded_agreement_is_not_changed(adopted, command, arguments):
    adopted.rescind("Replaced")

    with pytest.raises(IllegalTransition) as refused:
        getattr(adopted, command)(*arguments)

    assert refused.value.state == "rescinded"
