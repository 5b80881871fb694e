"""A decision names a decision rule of the forum in force; bootstrap consent adopts the first."""

from uuid import uuid4

import pytest

from tracker.domain import Agreement, InvalidValue
from tracker.domain.decision import by_bootstrap_consent, under_rule
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision

FORUM = uuid4()
AMINA, BEN, CHLOE = uuid4(), uuid4(), uuid4()
MEMBERS = {AMINA, BEN, CHLOE}
FIRST = Decision(BOOTSTRAP_CONSENT, consented_by=(AMINA, BEN, CHLOE))


def agreement(kind="decision_rule", scope="forum", scope_id=FORUM):
    return Agreement.propose(
        uuid4(), scope, scope_id, kind, "Consent of members present", "No objection", AMINA
    )


def adopted(kind="decision_rule", scope="forum"):
    rule = agreement(kind, scope)
    first = kind == "decision_rule" and scope == "forum"
    rule.adopt(
        FIRST if first else Decision("Consent", uuid4(), 2), forum_has_decision_rule=not first
    )
    return rule


def test_a_decision_under_a_rule_in_force_records_the_rule_its_version_and_who_was_present():
    rule = adopted()
    rule.amend("No reasoned objection from anyone present", "Clearer")

    decision = under_rule(rule, rule.id, FORUM, FORUM, (AMINA, BEN))

    assert decision == Decision("Consent of members present", rule.id, 3, (AMINA, BEN))


def test_an_unknown_rule_is_refused_naming_the_field():
    with pytest.raises(InvalidValue) as refused:
        under_rule(None, uuid4(), None, FORUM)

    assert refused.value.field == "decision_rule_id"
    assert refused.value.reason.startswith("no such decision rule")


def test_a_rule_of_another_forum_is_refused_as_if_unknown():
    rule = adopted()
    elsewhere = uuid4()

    with pytest.raises(InvalidValue) as refused:
        under_rule(rule, rule.id, FORUM, elsewhere)

    assert refused.value.reason == f"no such decision rule: {rule.id}"


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (lambda: agreement(), "the decision rule is not adopted yet"),
        (lambda: rescinded(), "the decision rule is rescinded, not in force"),
        (lambda: adopted(kind="expectation"), "an agreement of kind expectation, not a decision"),
        (lambda: adopted(scope="purpose"), "a purpose's agreement, not one of the forum's rules"),
    ],
    ids=["proposed", "rescinded", "expectation", "purpose-scoped"],
)
def test_a_rule_not_in_force_or_of_the_wrong_kind_is_refused(rule, reason):
    named = rule()

    with pytest.raises(InvalidValue) as refused:
        under_rule(named, named.id, FORUM, FORUM)

    assert refused.value.field == "decision_rule_id"
    assert refused.value.reason.startswith(reason)


def rescinded():
    rule = adopted()
    rule.rescind("Replaced by majority voting")
    return rule


def test_bootstrap_consent_at_a_meeting_is_of_every_member_present():
    decision = by_bootstrap_consent(MEMBERS, (AMINA, BEN), present=(AMINA, BEN, uuid4()))

    assert (decision.rule, decision.rule_id) == (BOOTSTRAP_CONSENT, None)
    assert decision.consented_by == (AMINA, BEN)


def test_bootstrap_consent_outside_a_meeting_is_of_every_member():
    with pytest.raises(InvalidValue) as refused:
        by_bootstrap_consent(MEMBERS, (AMINA, BEN), present=None)

    assert refused.value.field == "consented_by"
    assert str(CHLOE) in refused.value.reason


def test_bootstrap_consent_missing_a_member_present_is_refused():
    with pytest.raises(InvalidValue) as refused:
        by_bootstrap_consent(MEMBERS, (AMINA,), present=(AMINA, BEN))

    assert refused.value.reason == f"every member present consents: {BEN}"


@pytest.mark.parametrize(
    ("consented", "present"),
    [((AMINA, uuid4()), (AMINA,)), ((AMINA, CHLOE), (AMINA,)), ((AMINA, AMINA), (AMINA,))],
    ids=["not a member", "member absent", "twice"],
)
def test_only_members_present_consent_and_each_once(consented, present):
    with pytest.raises(InvalidValue) as refused:
        by_bootstrap_consent(MEMBERS, consented, present)

    assert refused.value.field == "consented_by"


def test_bootstrap_consent_needs_someone_to_consent():
    with pytest.raises(InvalidValue) as refused:
        by_bootstrap_consent(MEMBERS, (), present=None)

    assert refused.value.field == "consented_by"


def test_bootstrap_consent_at_a_meeting_no_member_attended_is_refused():
    with pytest.raises(InvalidValue) as refused:
        by_bootstrap_consent(MEMBERS, (AMINA,), present=())

    assert refused.value.reason == "no member of the forum is recorded as present"
