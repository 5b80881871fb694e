"""Purpose: a shared aim of a forum, endorsed by leaders from several organisations."""

from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain.checks import require_decision, require_state, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import InvalidValue
from tracker.domain.values import FIRST_RULE_ONLY, AffiliationSnapshot, Decision

PROPOSED = "proposed"
ADOPTED = "adopted"
RETIRED = "retired"


class Purpose(Aggregate):
    """A statement of what a forum's members are working towards together."""

    class Proposed(Aggregate.Created):
        """A leader proposed a purpose to a forum."""

        forum_id: UUID
        statement: str
        proposed_by: UUID

    class Revised(Aggregate.Event):
        """The statement was revised, for a reason."""

        by: UUID
        statement: str
        reason: str

    class Endorsed(Aggregate.Event):
        """A leader endorsed the purpose; their affiliation is kept for context only."""

        by: UUID
        affiliation: AffiliationSnapshot | None

    class EndorsementWithdrawn(Aggregate.Event):
        """A leader withdrew their endorsement."""

        by: UUID

    class Adopted(Aggregate.Event):
        """The forum adopted the purpose under one of its decision rules in force."""

        # v1 events named the rule in free text only.
        class_version = 2

        decision_rule: str
        meeting_id: UUID | None
        decision_rule_id: UUID | None
        decision_rule_version: int | None
        present: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A v1 adoption named no rule by id, and recorded no one present."""
            state.update(decision_rule_id=None, decision_rule_version=None, present=[])

    class Retired(Aggregate.Event):
        """The purpose is no longer pursued."""

        reason: str

    @classmethod
    def propose(cls, id: UUID, forum_id: UUID, statement: str, by: UUID) -> Self:
        """Propose a purpose to a forum."""
        require_text("statement", statement)
        return cls(id, forum_id=forum_id, statement=statement, proposed_by=by)

    @event(Proposed)
    def __init__(self, id: UUID, forum_id: UUID, statement: str, proposed_by: UUID) -> None:
        self.forum_id = forum_id
        self.statement = statement
        self.proposed_by = proposed_by
        self.status = PROPOSED
        self.revisions = 0
        self.endorsements: dict[UUID, AffiliationSnapshot | None] = {}
        self.decision_rule: str | None = None
        self.decision: Decision | None = None

    @property
    def is_retired(self) -> bool:
        """Whether the purpose is retired, so commitments may no longer cite it."""
        return self.status == RETIRED

    def revise(self, by: UUID, statement: str, reason: str) -> None:
        """Revise the statement, giving a reason."""
        require_state("revise", self.status, PROPOSED, ADOPTED)
        require_text("statement", statement)
        require_text("reason", reason)
        if statement == self.statement:
            raise InvalidValue("statement", "unchanged")
        self._revised(by=by, statement=statement, reason=reason)

    def endorse(self, by: UUID, affiliation: AffiliationSnapshot | None = None) -> None:
        """A leader endorses the purpose."""
        require_state("endorse", self.status, PROPOSED, ADOPTED)
        if by in self.endorsements:
            raise InvalidValue("by", "already endorsed")
        self._endorsed(by=by, affiliation=affiliation)

    def withdraw_endorsement(self, by: UUID) -> None:
        """A leader withdraws their endorsement."""
        require_state("withdraw_endorsement", self.status, PROPOSED, ADOPTED)
        if by not in self.endorsements:
            raise InvalidValue("by", "has not endorsed")
        self._endorsement_withdrawn(by=by)

    def adopt(self, decision: Decision, meeting_id: UUID | None = None) -> None:
        """The forum adopts the purpose under one of its decision rules in force."""
        require_state("adopt", self.status, PROPOSED)
        require_decision(decision)
        if decision.rule_id is None:
            raise InvalidValue("bootstrap", FIRST_RULE_ONLY)
        self._adopted(
            decision_rule=decision.rule,
            meeting_id=meeting_id,
            decision_rule_id=decision.rule_id,
            decision_rule_version=decision.rule_version,
            present=decision.present,
        )

    def retire(self, reason: str) -> None:
        """Retire the purpose, giving a reason."""
        require_state("retire", self.status, PROPOSED, ADOPTED)
        require_text("reason", reason)
        self._retired(reason=reason)

    @event(Revised)
    def _revised(self, by: UUID, statement: str, reason: str) -> None:
        self.statement = statement
        self.revisions += 1

    @event(Endorsed)
    def _endorsed(self, by: UUID, affiliation: AffiliationSnapshot | None) -> None:
        self.endorsements[by] = affiliation

    @event(EndorsementWithdrawn)
    def _endorsement_withdrawn(self, by: UUID) -> None:
        del self.endorsements[by]

    @event(Adopted)
    def _adopted(
        self,
        decision_rule: str,
        meeting_id: UUID | None,
        decision_rule_id: UUID | None,
        decision_rule_version: int | None,
        present: tuple[UUID, ...],
    ) -> None:
        self.status = ADOPTED
        self.decision_rule = decision_rule
        self.decision = Decision(decision_rule, decision_rule_id, decision_rule_version, present)

    @event(Retired)
    def _retired(self, reason: str) -> None:
        self.status = RETIRED
