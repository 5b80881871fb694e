"""Small guards shared by the aggregates; each raises a domain error."""

from uuid import UUID

from tracker.domain.errors import IllegalTransition, InvalidValue, NotAllowed
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision


def require_state(command: str, state: str, *allowed: str) -> None:
    """Refuse a command unless the aggregate is in one of the allowed states."""
    if state not in allowed:
        raise IllegalTransition(command, state)


def require_text(field: str, value: str) -> None:
    """Refuse blank text."""
    if not value.strip():
        raise InvalidValue(field, "must not be blank")


def require_one_of(field: str, value: str, choices: frozenset[str]) -> None:
    """Refuse a value outside a fixed vocabulary."""
    if value not in choices:
        raise InvalidValue(field, f"must be one of {', '.join(sorted(choices))}")


def require_rule(allowed: bool, rule: str, by: UUID | None = None) -> None:
    """Refuse, naming the rule, unless allowed."""
    if not allowed:
        raise NotAllowed(rule, by)


def require_decision(decision: Decision) -> None:
    """Refuse a decision that names no rule by id and is not bootstrap consent by members."""
    require_text("decision_rule", decision.rule)
    if decision.rule_id is None:
        if decision.rule != BOOTSTRAP_CONSENT:
            raise InvalidValue("decision_rule_id", "must name a decision rule in force")
        if not decision.consented_by:
            raise InvalidValue("consented_by", "bootstrap consent names who consented")
