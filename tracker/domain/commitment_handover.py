"""Handing a commitment over: exactly one accountable owner, until the new one accepts."""

from uuid import UUID

from tracker.domain.checks import require_rule, require_state
from tracker.domain.commitment_state import CommitmentState
from tracker.domain.commitment_terms import ACTIVE
from tracker.domain.errors import IllegalTransition, InvalidValue


class Handover(CommitmentState):
    """The commands that pass an active commitment from its owner to another leader."""

    def offer_handover(self, by: UUID, to_id: UUID, note: str = "") -> None:
        """The owner offers the commitment to another leader, staying accountable meanwhile."""
        require_state("offer_handover", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-offer-handover")
        if self.handover_pending:
            raise IllegalTransition("offer_handover", "handover_pending")
        if to_id == self.owner_id:
            raise InvalidValue("to_id", "already the owner")
        self._handover_offered(by=by, to_id=to_id, note=note)

    def accept_handover(self, by: UUID) -> None:
        """The offered leader accepts and becomes the owner."""
        if not self.handover_pending:
            raise IllegalTransition("accept_handover", self.status)
        require_rule(by == self.handover_to, "only-offered-leader-can-accept-handover", by)
        self._handover_accepted(by=by)

    def decline_handover(self, by: UUID, reason: str = "") -> None:
        """The offered leader declines; the owner keeps the commitment."""
        if not self.handover_pending:
            raise IllegalTransition("decline_handover", self.status)
        require_rule(by == self.handover_to, "only-offered-leader-can-decline-handover", by)
        self._handover_declined(by=by, reason=reason)

    def withdraw_handover(self, by: UUID) -> None:
        """The owner withdraws a handover offer."""
        if not self.handover_pending:
            raise IllegalTransition("withdraw_handover", self.status)
        self._check_owner(by, "only-owner-can-withdraw-handover")
        self._handover_withdrawn(by=by)
