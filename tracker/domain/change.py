"""An amendment or rescission of an agreement, and the rule it was decided under."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tracker.domain.checks import require_decision
from tracker.domain.errors import InvalidValue
from tracker.domain.values import Decision


def no_decision() -> dict[str, Any]:
    """The decision fields of an amendment or rescission recorded under no rule."""
    return {
        "meeting_id": None,
        "decision_rule": None,
        "decision_rule_id": None,
        "decision_rule_version": None,
        "present": [],
    }


@dataclass(frozen=True)
class Change:
    """An amendment or rescission: why, the rule it was decided under (if any), and where."""

    reason: str
    decision: Decision | None
    meeting_id: UUID | None


def decided(
    reason: str,
    decision_rule: str | None,
    decision_rule_id: UUID | None,
    decision_rule_version: int | None,
    present: tuple[UUID, ...],
    meeting_id: UUID | None,
) -> Change:
    """The change an event records; no decision when it named no rule."""
    if decision_rule is None:
        return Change(reason, None, meeting_id)
    d = Decision(decision_rule, decision_rule_id, decision_rule_version, tuple(present))
    return Change(reason, d, meeting_id)


def decision_fields(decision: Decision | None, meeting_id: UUID | None) -> dict[str, Any]:
    """An event's decision fields for a decision under a rule in force, or under none."""
    if decision is None:
        return no_decision() | {"meeting_id": meeting_id, "present": ()}
    require_decision(decision)
    if decision.rule_id is None:
        raise InvalidValue("decision_rule_id", "must name a decision rule in force")
    return {
        "meeting_id": meeting_id,
        "decision_rule": decision.rule,
        "decision_rule_id": decision.rule_id,
        "decision_rule_version": decision.rule_version,
        "present": decision.present,
    }
