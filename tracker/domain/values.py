"""Value objects shared by several aggregates' events."""

from dataclasses import dataclass
from uuid import UUID

# A group needs a decision rule before it can adopt one: the first is adopted by consent.
BOOTSTRAP_CONSENT = "bootstrap consent"
FIRST_RULE_ONLY = "only a forum's first decision rule is adopted by bootstrap consent"


@dataclass(frozen=True)
class AffiliationSnapshot:
    """A leader's organisation and title as they stood when an event happened."""

    organisation_id: UUID
    organisation_name: str
    title: str


@dataclass(frozen=True)
class Decision:
    """How a forum decided: under which of its rules in force, at which version, with whom.

    `rule_id` is None only for bootstrap consent, which adopts a forum's first rule; then
    `consented_by` names every member who consented. `present` is who attended the meeting the
    decision was made at, if one is named.
    """

    rule: str
    rule_id: UUID | None = None
    rule_version: int | None = None
    present: tuple[UUID, ...] = ()
    consented_by: tuple[UUID, ...] = ()
