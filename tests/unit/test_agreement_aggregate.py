"""Agreements: decision rules, expectations and constraints of a forum or purpose."""

from uuid import uuid4

import pytest

from tracker.domain import Agreement, IllegalTransition, InvalidValue
from tracker.domain.change import Change
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision

PROPOSER = uuid4()
CONSENT = Decision("Consent of members present", uuid4(), 2)
BOOTSTRAP = Decision(BOOTSTRAP_CONSENT, consented_by=(PROPOSER, uuid4()))


def propose(kind="decision_rule", scope="forum"):
    return Agreement.propose(
        uuid4(), scope, uuid4(), kind, "How we decide", "By consent of members present", PROPOSER
    )


@pytest.fixture
def decision_rule(replayed):
    return replayed(propose())


@pytest.fixture
def adopted(decision_rule):
    decision_rule.adopt(CONSENT)
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


def test_an_agreement_is_adopted_naming_the_rule_its_version_and_who_was_present(
    decision_rule,
):
    meeting, present = uuid4(), (uuid4(), uuid4())
    decision = Decision("Majority of members present", uuid4(), 3, present)

    decision_rule.adopt(decision, meeting_id=meeting)

    [adopted] = decision_rule.collect_events()
    assert isinstance(adopted, Agreement.Adopted)
    assert (adopted.decision_rule, adopted.meeting_id) == ("Majority of members present", meeting)
    assert (adopted.decision_rule_id, adopted.decision_rule_version) == (decision.rule_id, 3)
    assert (adopted.present, adopted.consented_by) == (present, ())
    assert (decision_rule.in_force, decision_rule.decision) == (True, decision)


def test_adoption_names_a_rule_by_id_unless_it_is_bootstrap_consent(decision_rule):
    with pytest.raises(InvalidValue) as refused:
        decision_rule.adopt(Decision("Because Helen said so"), forum_has_decision_rule=False)

    assert refused.value.field == "decision_rule_id"


def test_a_forums_first_decision_rule_is_adopted_by_bootstrap_consent(decision_rule):
    decision_rule.adopt(BOOTSTRAP, forum_has_decision_rule=False)

    assert decision_rule.decision_rule == "bootstrap consent"
    assert decision_rule.decision == BOOTSTRAP


def test_bootstrap_consent_names_who_consented(decision_rule):
    with pytest.raises(InvalidValue) as refused:
        decision_rule.adopt(Decision(BOOTSTRAP_CONSENT), forum_has_decision_rule=False)

    assert refused.value.field == "consented_by"


def test_bootstrap_consent_is_refused_once_the_forum_has_a_decision_rule(decision_rule):
    with pytest.raises(InvalidValue) as refused:
        decision_rule.adopt(BOOTSTRAP)
    assert refused.value.field == "bootstrap"


@pytest.mark.parametrize(
    ("kind", "scope"), [("expectation", "forum"), ("decision_rule", "purpose")]
)
def test_bootstrap_consent_is_only_for_a_forums_decision_rule(kind, scope):
    with pytest.raises(InvalidValue) as refused:
        propose(kind=kind, scope=scope).adopt(BOOTSTRAP, forum_has_decision_rule=False)
    assert refused.value.field == "bootstrap"


def test_an_adoption_recorded_before_rules_were_named_by_id_still_replays(decision_rule):
    state = {"decision_rule": "consent", "meeting_id": None}

    Agreement.Adopted.upcast_v1_v2(state)

    assert state == {
        "decision_rule": "consent",
        "meeting_id": None,
        "decision_rule_id": None,
        "decision_rule_version": None,
        "present": [],
        "consented_by": [],
    }


def test_an_agreement_is_adopted_once(adopted):
    with pytest.raises(IllegalTransition):
        adopted.adopt(CONSENT)


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
    [("adopt", (CONSENT,)), ("amend", ("New", "Why")), ("rescind", ("Again",))],
)
def test_a_rescinded_agreement_is_not_changed(adopted, command, arguments):
    adopted.rescind("Replaced")

    with pytest.raises(IllegalTransition) as refused:
        getattr(adopted, command)(*arguments)

    assert refused.value.state == "rescinded"


def test_an_amendment_records_the_rule_it_was_decided_under_and_where(adopted):
    meeting, present = uuid4(), (uuid4(),)
    decision = Decision("Consent of members present", uuid4(), 4, present)

    adopted.amend("By consent, with a quorum", "Quorum problems", decision, meeting)

    [amended] = adopted.collect_events()
    assert (amended.decision_rule_id, amended.decision_rule_version) == (decision.rule_id, 4)
    assert (amended.meeting_id, amended.present) == (meeting, present)
    assert adopted.last_amendment == Change("Quorum problems", decision, meeting)


def test_a_rescission_records_the_rule_it_was_decided_under(adopted):
    adopted.rescind("Replaced", CONSENT)

    assert adopted.rescission == Change("Replaced", CONSENT, None)


def test_a_change_under_no_rule_records_no_decision(adopted):
    adopted.rescind("Replaced")

    [rescinded] = adopted.collect_events()
    assert (rescinded.decision_rule, rescinded.decision_rule_id) == (None, None)
    assert adopted.rescission == Change("Replaced", None, None)


@pytest.mark.parametrize("command", ["amend", "rescind"])
def test_bootstrap_consent_does_not_amend_or_rescind(adopted, command):
    arguments = ("New", "Why") if command == "amend" else ("Why",)

    with pytest.raises(InvalidValue) as refused:
        getattr(adopted, command)(*arguments, BOOTSTRAP)

    assert refused.value.field == "decision_rule_id"


@pytest.mark.parametrize("event", [Agreement.Amended, Agreement.Rescinded])
def test_a_change_recorded_before_changes_named_a_rule_still_replays(event):
    state = {"reason": "Long ago"}

    event.upcast_v1_v2(state)

    assert state == {
        "reason": "Long ago",
        "meeting_id": None,
        "decision_rule": None,
        "decision_rule_id": None,
        "decision_rule_version": None,
        "present": [],
    }
