"""Which rule a forum decides under: one of its decision rules in force, or bootstrap consent."""

from collections.abc import Collection, Sequence
from uuid import UUID

from tracker.domain.agreement import ADOPTED, DECISION_RULE, FORUM, PROPOSED, Agreement
from tracker.domain.errors import InvalidValue
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision

RULE_FIELD = "decision_rule_id"
CONSENT_FIELD = "consented_by"


def under_rule(
    rule: Agreement | None,
    rule_id: UUID,
    rule_forum_id: UUID | None,
    forum_id: UUID,
    present: Sequence[UUID] = (),
) -> Decision:
    """A decision under the named rule, refused unless it is a decision rule of the forum in
    force; a rule of another forum is refused exactly as an unknown id is."""
    if rule is None or rule_forum_id != forum_id:
        raise InvalidValue(RULE_FIELD, f"no such decision rule: {rule_id}")
    if rule.kind != DECISION_RULE:
        raise InvalidValue(RULE_FIELD, f"an agreement of kind {rule.kind}, not a decision rule")
    if rule.scope != FORUM:
        raise InvalidValue(RULE_FIELD, "a purpose's agreement, not one of the forum's rules")
    if rule.status != ADOPTED:
        state = "not adopted yet" if rule.status == PROPOSED else f"{rule.status}, not in force"
        raise InvalidValue(RULE_FIELD, f"the decision rule is {state}")
    return Decision(rule.title, rule.id, rule.version, tuple(present))


def by_bootstrap_consent(
    members: Collection[UUID], consented_by: Sequence[UUID], present: Sequence[UUID] | None
) -> Decision:
    """Consent to a forum's first rule: at a meeting, every member present (`present`, the
    meeting's attendance) consents; outside one, every member of the forum does."""
    if not consented_by:
        raise InvalidValue(CONSENT_FIELD, "bootstrap consent names who consented")
    if len(set(consented_by)) != len(consented_by):
        raise InvalidValue(CONSENT_FIELD, "a leader appears twice")
    where = "of the forum" if present is None else "present"
    needed = set(members) if present is None else set(members) & set(present)
    if not needed:
        raise InvalidValue(CONSENT_FIELD, "no member of the forum is recorded as present")
    others = [str(i) for i in consented_by if i not in needed]
    if others:
        raise InvalidValue(CONSENT_FIELD, f"not members {where}: {', '.join(others)}")
    missing = sorted(str(i) for i in needed - set(consented_by))
    if missing:
        raise InvalidValue(CONSENT_FIELD, f"every member {where} consents: {', '.join(missing)}")
    return Decision(
        BOOTSTRAP_CONSENT, present=tuple(present or ()), consented_by=tuple(consented_by)
    )
