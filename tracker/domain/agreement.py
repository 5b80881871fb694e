"""Agreement: how a forum decides, what members expect of each other, what it honours."""

from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain.change import Change, decided, decision_fields, no_decision
from tracker.domain.checks import require_decision, require_one_of, require_state, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import InvalidValue
from tracker.domain.values import FIRST_RULE_ONLY, Decision

FORUM = "forum"
PURPOSE = "purpose"
SCOPES = frozenset({FORUM, PURPOSE})

DECISION_RULE = "decision_rule"
EXPECTATION = "expectation"
CONSTRAINT = "constraint"
KINDS = frozenset({DECISION_RULE, EXPECTATION, CONSTRAINT})

PROPOSED = "proposed"
ADOPTED = "adopted"
RESCINDED = "rescinded"


class Agreement(Aggregate):
    """An agreement in the scope of a forum or a purpose."""

    class Proposed(Aggregate.Created):
        """An agreement was proposed."""

        scope: str
        scope_id: UUID
        kind: str
        title: str
        text: str
        proposed_by: UUID

    class Adopted(Aggregate.Event):
        """The agreement was adopted under a decision rule in force, or by bootstrap consent."""

        # v1 events named the rule in free text only.
        class_version = 2

        decision_rule: str
        meeting_id: UUID | None
        decision_rule_id: UUID | None
        decision_rule_version: int | None
        present: tuple[UUID, ...]
        consented_by: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A v1 adoption named no rule by id, and recorded no one present."""
            state.update(
                decision_rule_id=None, decision_rule_version=None, present=[], consented_by=[]
            )

    class Amended(Aggregate.Event):
        """The text was amended, for a reason, under a decision rule in force if any."""

        # v1 events named no rule.
        class_version = 2

        text: str
        reason: str
        meeting_id: UUID | None
        decision_rule: str | None
        decision_rule_id: UUID | None
        decision_rule_version: int | None
        present: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A v1 amendment named no rule, no meeting, and no one present."""
            state.update(no_decision())

    class Rescinded(Aggregate.Event):
        """The agreement is no longer in force, under a decision rule in force if any."""

        # v1 events named no rule.
        class_version = 2

        reason: str
        meeting_id: UUID | None
        decision_rule: str | None
        decision_rule_id: UUID | None
        decision_rule_version: int | None
        present: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A v1 rescission named no rule, no meeting, and no one present."""
            state.update(no_decision())

    @classmethod
    def propose(
        cls, id: UUID, scope: str, scope_id: UUID, kind: str, title: str, text: str, by: UUID
    ) -> Self:
        """Propose an agreement for a forum or a purpose."""
        require_one_of("scope", scope, SCOPES)
        require_one_of("kind", kind, KINDS)
        require_text("title", title)
        require_text("text", text)
        return cls(
            id, scope=scope, scope_id=scope_id, kind=kind, title=title, text=text, proposed_by=by
        )

    @event(Proposed)
    def __init__(
        self,
        id: UUID,
        scope: str,
        scope_id: UUID,
        kind: str,
        title: str,
        text: str,
        proposed_by: UUID,
    ) -> None:
        self.scope = scope
        self.scope_id = scope_id
        self.kind = kind
        self.title = title
        self.text = text
        self.proposed_by = proposed_by
        self.status = PROPOSED
        self.decision_rule: str | None = None
        self.decision: Decision | None = None
        self.meeting_id: UUID | None = None
        self.amendments = 0
        self.last_amendment: Change | None = None
        self.rescission: Change | None = None

    @property
    def in_force(self) -> bool:
        """Whether the agreement is adopted and not rescinded."""
        return self.status == ADOPTED

    @property
    def is_first_rule_candidate(self) -> bool:
        """Whether bootstrap consent could adopt it: a forum's own decision rule."""
        return self.scope == FORUM and self.kind == DECISION_RULE

    def adopt(
        self,
        decision: Decision,
        meeting_id: UUID | None = None,
        forum_has_decision_rule: bool = True,
    ) -> None:
        """Adopt the agreement under a decision rule in force, or by bootstrap consent.

        Bootstrap consent is allowed only for a forum's first decision rule; the caller
        says whether the forum already has one in force.
        """
        require_state("adopt", self.status, PROPOSED)
        require_decision(decision)
        if decision.rule_id is None and (
            forum_has_decision_rule or not self.is_first_rule_candidate
        ):
            raise InvalidValue("bootstrap", FIRST_RULE_ONLY)
        d = decision
        self._adopted(
            decision_rule=d.rule,
            meeting_id=meeting_id,
            decision_rule_id=d.rule_id,
            decision_rule_version=d.rule_version,
            present=d.present,
            consented_by=d.consented_by,
        )

    def amend(
        self,
        text: str,
        reason: str,
        decision: Decision | None = None,
        meeting_id: UUID | None = None,
    ) -> None:
        """Amend the text, giving a reason, under a decision rule in force (none if the forum
        has none)."""
        require_state("amend", self.status, PROPOSED, ADOPTED)
        require_text("text", text)
        require_text("reason", reason)
        if text == self.text:
            raise InvalidValue("text", "unchanged")
        self._amended(text=text, reason=reason, **decision_fields(decision, meeting_id))

    def rescind(
        self, reason: str, decision: Decision | None = None, meeting_id: UUID | None = None
    ) -> None:
        """Take an adopted agreement out of force, giving a reason, under a decision rule in
        force (none if the forum has none)."""
        require_state("rescind", self.status, ADOPTED)
        require_text("reason", reason)
        self._rescinded(reason=reason, **decision_fields(decision, meeting_id))

    @event(Adopted)
    def _adopted(
        self,
        decision_rule: str,
        meeting_id: UUID | None,
        decision_rule_id: UUID | None,
        decision_rule_version: int | None,
        present: tuple[UUID, ...],
        consented_by: tuple[UUID, ...],
    ) -> None:
        self.status = ADOPTED
        self.decision_rule = decision_rule
        self.decision = Decision(
            decision_rule, decision_rule_id, decision_rule_version, present, consented_by
        )
        self.meeting_id = meeting_id

    @event(Amended)
    def _amended(
        self,
        text: str,
        reason: str,
        meeting_id: UUID | None,
        decision_rule: str | None,
        decision_rule_id: UUID | None,
        decision_rule_version: int | None,
        present: tuple[UUID, ...],
    ) -> None:
        self.text = text
        self.amendments += 1
        self.last_amendment = decided(
            reason, decision_rule, decision_rule_id, decision_rule_version, present, meeting_id
        )

    @event(Rescinded)
    def _rescinded(
        self,
        reason: str,
        meeting_id: UUID | None,
        decision_rule: str | None,
        decision_rule_id: UUID | None,
        decision_rule_version: int | None,
        present: tuple[UUID, ...],
    ) -> None:
        self.status = RESCINDED
        self.rescission = decided(
            reason, decision_rule, decision_rule_id, decision_rule_version, present, meeting_id
        )
