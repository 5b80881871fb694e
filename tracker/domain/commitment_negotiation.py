"""Agreeing a commitment's terms: answering a proposal, counter-offers and renegotiation."""

from datetime import date
from uuid import UUID

from tracker.domain.checks import require_rule, require_state, require_text
from tracker.domain.commitment_state import CommitmentState
from tracker.domain.commitment_terms import ACTIVE, PROPOSED
from tracker.domain.errors import IllegalTransition


class Negotiation(CommitmentState):
    """The commands by which owner and requester agree what is promised, and by when."""

    def accept(self, by: UUID) -> None:
        """The owner takes on a proposed commitment, on the terms asked."""
        require_state("accept", self.status, PROPOSED)
        self._check_owner(by, "only-owner-can-accept")
        self._accepted(by=by)

    def decline(self, by: UUID, reason: str) -> None:
        """The owner turns down a proposed commitment."""
        require_state("decline", self.status, PROPOSED)
        self._check_owner(by, "only-owner-can-decline")
        require_text("reason", reason)
        self._declined(by=by, reason=reason)

    def counter_offer(
        self, by: UUID, due_on: date | None, description: str | None = None, note: str = ""
    ) -> None:
        """The owner offers different terms; the requester may accept them."""
        require_state("counter_offer", self.status, PROPOSED)
        self._check_owner(by, "only-owner-can-counter-offer")
        require_rule(self.requester_id is not None, "counter-offer-needs-a-requester")
        new_description, new_due_on = self._changed_terms(description, due_on)
        self._counter_offered(by=by, description=new_description, due_on=new_due_on, note=note)

    def accept_counter_offer(self, by: UUID) -> None:
        """The requester accepts the owner's terms, so the commitment is active."""
        if not self.counter_offer_pending:
            raise IllegalTransition("accept_counter_offer", self.status)
        self._check_requester(by, "only-requester-can-accept-counter-offer")
        self._counter_offer_accepted(by=by)

    def withdraw(self, by: UUID, by_steward: bool = False, reason: str = "") -> None:
        """The requester (or a steward, when none) withdraws a proposed commitment."""
        require_state("withdraw", self.status, PROPOSED)
        self._check_requester_or_steward(by, by_steward, "only-requester-or-steward-can-withdraw")
        self._withdrawn(by=by, reason=reason)

    def renegotiate(
        self, by: UUID, reason: str, due_on: date | None, description: str | None = None
    ) -> None:
        """The owner changes the terms; with a requester it is only a proposal."""
        require_state("renegotiate", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-renegotiate")
        if self.renegotiation_pending:
            raise IllegalTransition("renegotiate", "renegotiation_pending")
        require_text("reason", reason)
        new_description, new_due_on = self._changed_terms(description, due_on)
        if self.requester_id is None:
            self._renegotiated(by=by, reason=reason, description=new_description, due_on=new_due_on)
        else:
            self._renegotiation_proposed(
                by=by, reason=reason, description=new_description, due_on=new_due_on
            )

    def agree_renegotiation(self, by: UUID) -> None:
        """The requester agrees the proposed terms."""
        if not self.renegotiation_pending:
            raise IllegalTransition("agree_renegotiation", self.status)
        self._check_requester(by, "only-requester-can-agree-renegotiation")
        self._renegotiation_agreed(by=by)

    def reject_renegotiation(self, by: UUID, reason: str = "") -> None:
        """The requester rejects the proposed terms; the current ones stand."""
        if not self.renegotiation_pending:
            raise IllegalTransition("reject_renegotiation", self.status)
        self._check_requester(by, "only-requester-can-reject-renegotiation")
        self._renegotiation_rejected(by=by, reason=reason)
