"""What every part of a commitment reads: its state, the questions and guards on it, and the
state changes its commands raise."""

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from tracker.domain.checks import require_rule, require_text
from tracker.domain.commitment_terms import TERMINAL, Terms, check_due
from tracker.domain.errors import InvalidValue


class CommitmentState:
    """The base of the commitment's command groups; `Commitment` sets and changes the state."""

    forum_id: UUID
    owner_id: UUID
    made_by: UUID | None
    requester_id: UUID | None
    description: str
    purpose_ids: tuple[UUID, ...]
    made_on: date
    due_on: date | None
    original_due_on: date | None
    asked_for: Terms
    agreed: Terms | None
    meeting_id: UUID | None
    recorded_by: str | None
    minuted_as: str | None
    status: str
    progress: int | None
    renegotiation_count: int
    offered_terms: Terms | None
    proposed_terms: Terms | None
    handover_to: UUID | None

    @property
    def is_terminal(self) -> bool:
        """Whether only comments and record corrections remain possible."""
        return self.status in TERMINAL

    @property
    def handover_pending(self) -> bool:
        """Whether a handover awaits the offered leader; the owner stays accountable."""
        return self.handover_to is not None

    @property
    def renegotiation_pending(self) -> bool:
        """Whether proposed terms await the requester."""
        return self.proposed_terms is not None

    @property
    def counter_offer_pending(self) -> bool:
        """Whether the owner's counter-offer awaits the requester."""
        return self.offered_terms is not None

    def is_party(self, leader_id: UUID) -> bool:
        """Whether the leader is the owner or the requester."""
        return leader_id in (self.owner_id, self.requester_id)

    def _check_owner(self, by: UUID, rule: str) -> None:
        require_rule(by == self.owner_id, rule, by)

    def _check_requester(self, by: UUID, rule: str) -> None:
        require_rule(by == self.requester_id, rule, by)

    def _check_requester_or_steward(self, by: UUID, by_steward: bool, rule: str) -> None:
        """The requester decides; a steward stands in only when there is no requester."""
        allowed = by == self.requester_id if self.requester_id is not None else by_steward
        require_rule(allowed, rule, by)

    def _changed_terms(self, description: str | None, due_on: date | None) -> Terms:
        terms = (self.description if description is None else description, due_on)
        require_text("description", terms[0])
        check_due(due_on, self.made_on)
        if terms == (self.description, self.due_on):
            raise InvalidValue("terms", "no change to the description or due date")
        return terms

    if TYPE_CHECKING:
        # Declared for the commands only: `Commitment` defines each, raising its event, and
        # leaving them out at run time means a missing one fails loudly rather than doing nothing.
        def _accepted(self, by: UUID) -> None: ...
        def _declined(self, by: UUID, reason: str) -> None: ...
        def _counter_offered(
            self, by: UUID, description: str, due_on: date | None, note: str
        ) -> None: ...
        def _counter_offer_accepted(self, by: UUID) -> None: ...
        def _withdrawn(self, by: UUID, reason: str) -> None: ...
        def _progress_reported(self, by: UUID, percent: int, note: str) -> None: ...
        def _renegotiated(
            self, by: UUID, reason: str, description: str, due_on: date | None
        ) -> None: ...
        def _renegotiation_proposed(
            self, by: UUID, reason: str, description: str, due_on: date | None
        ) -> None: ...
        def _renegotiation_agreed(self, by: UUID) -> None: ...
        def _renegotiation_rejected(self, by: UUID, reason: str) -> None: ...
        def _handover_offered(self, by: UUID, to_id: UUID, note: str) -> None: ...
        def _handover_accepted(self, by: UUID) -> None: ...
        def _handover_declined(self, by: UUID, reason: str) -> None: ...
        def _handover_withdrawn(self, by: UUID) -> None: ...
        def _released(self, by: UUID, reason: str) -> None: ...
        def _completed(self, by: UUID, note: str) -> None: ...
        def _acknowledged(self, by: UUID) -> None: ...
        def _disputed(self, by: UUID, reason: str) -> None: ...
        def _cancelled(self, by: UUID, reason: str) -> None: ...
        def _reopened(self, by: UUID, reason: str) -> None: ...
        def _purpose_linked(self, by: UUID, purpose_id: UUID) -> None: ...
        def _purpose_unlinked(self, by: UUID, purpose_id: UUID) -> None: ...
        def _commented(self, by: UUID, text: str) -> None: ...
        def _record_corrected(
            self, by: UUID, reason: str, description: str, due_on: date | None
        ) -> None: ...
