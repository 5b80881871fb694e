"""Commitment: a leader's promise to a shared purpose, through its whole lifecycle."""

from collections.abc import Collection
from datetime import date
from typing import Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain import commitment_events as ev
from tracker.domain.checks import require_rule, require_state, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import IllegalTransition, InvalidValue

PROPOSED = "proposed"
ACTIVE = "active"
COMPLETED = "completed"
ACKNOWLEDGED = "acknowledged"
RELEASED = "released"
CANCELLED = "cancelled"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
TERMINAL = frozenset({ACKNOWLEDGED, RELEASED, CANCELLED, DECLINED, WITHDRAWN})

Terms = tuple[str, date | None]


def _check_due(due_on: date | None, made_on: date) -> None:
    if due_on is not None and due_on < made_on:
        raise InvalidValue("due_on", "before the day the commitment was made")


class Commitment(Aggregate):
    """One accountable owner's promise, perhaps at another leader's request."""

    Event = ev.CommitmentEvent
    Made = ev.Made
    Accepted = ev.Accepted
    Declined = ev.Declined
    CounterOffered = ev.CounterOffered
    CounterOfferAccepted = ev.CounterOfferAccepted
    Withdrawn = ev.Withdrawn
    ProgressReported = ev.ProgressReported
    Renegotiated = ev.Renegotiated
    RenegotiationProposed = ev.RenegotiationProposed
    RenegotiationAgreed = ev.RenegotiationAgreed
    RenegotiationRejected = ev.RenegotiationRejected
    HandoverOffered = ev.HandoverOffered
    HandoverAccepted = ev.HandoverAccepted
    HandoverDeclined = ev.HandoverDeclined
    HandoverWithdrawn = ev.HandoverWithdrawn
    Released = ev.Released
    Completed = ev.Completed
    Acknowledged = ev.Acknowledged
    Disputed = ev.Disputed
    Cancelled = ev.Cancelled
    Reopened = ev.Reopened
    PurposeLinked = ev.PurposeLinked
    PurposeUnlinked = ev.PurposeUnlinked
    Commented = ev.Commented
    RecordCorrected = ev.RecordCorrected

    @classmethod
    def make(
        cls,
        id: UUID,
        *,
        forum_id: UUID,
        owner_id: UUID,
        by: UUID | None,
        description: str,
        purpose_ids: Collection[UUID],
        made_on: date,
        due_on: date | None = None,
        requester_id: UUID | None = None,
        meeting_id: UUID | None = None,
        retired_purpose_ids: Collection[UUID] = (),
    ) -> Self:
        """Make a commitment: only the owner can promise, so anyone else's starts proposed."""
        require_text("description", description)
        if not purpose_ids:
            raise InvalidValue("purpose_ids", "a commitment cites at least one purpose")
        if len(set(purpose_ids)) != len(purpose_ids):
            raise InvalidValue("purpose_ids", "a purpose appears twice")
        require_rule(not set(purpose_ids) & set(retired_purpose_ids), "purpose-is-retired")
        if requester_id == owner_id:
            raise InvalidValue("requester_id", "the owner cannot request of themselves")
        _check_due(due_on, made_on)
        return cls(
            id,
            forum_id=forum_id,
            owner_id=owner_id,
            made_by=by,
            requester_id=requester_id,
            description=description,
            purpose_ids=tuple(purpose_ids),
            made_on=made_on,
            due_on=due_on,
            meeting_id=meeting_id,
        )

    @event(Made)
    def __init__(
        self,
        id: UUID,
        *,
        forum_id: UUID,
        owner_id: UUID,
        made_by: UUID | None,
        requester_id: UUID | None,
        description: str,
        purpose_ids: tuple[UUID, ...],
        made_on: date,
        due_on: date | None,
        meeting_id: UUID | None,
    ) -> None:
        self.forum_id = forum_id
        self.owner_id = owner_id
        self.made_by = made_by
        self.requester_id = requester_id
        self.description = description
        self.purpose_ids = purpose_ids
        self.made_on = made_on
        self.due_on = due_on
        self.original_due_on = due_on
        self.meeting_id = meeting_id
        self.status = ACTIVE if made_by == owner_id else PROPOSED
        self.progress: int | None = None
        self.renegotiation_count = 0
        self.offered_terms: Terms | None = None
        self.proposed_terms: Terms | None = None
        self.handover_to: UUID | None = None

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
        _check_due(due_on, self.made_on)
        if terms == (self.description, self.due_on):
            raise InvalidValue("terms", "no change to the description or due date")
        return terms

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

    def report_progress(self, by: UUID, percent: int, note: str = "") -> None:
        """The owner reports progress; going down needs a note saying why."""
        require_state("report_progress", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-report-progress")
        if not 0 <= percent <= 100:
            raise InvalidValue("percent", "must be between 0 and 100")
        if self.progress is not None and percent < self.progress and not note.strip():
            raise InvalidValue("note", "required when progress goes down")
        self._progress_reported(by=by, percent=percent, note=note)

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

    def release(self, by: UUID, reason: str) -> None:
        """The owner releases the commitment with a reason: an honourable outcome."""
        require_state("release", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-release")
        require_text("reason", reason)
        self._released(by=by, reason=reason)

    def complete(self, by: UUID, note: str = "") -> None:
        """The owner says the commitment is done."""
        require_state("complete", self.status, ACTIVE)
        self._check_owner(by, "only-owner-can-complete")
        self._completed(by=by, note=note)

    def acknowledge(self, by: UUID, by_steward: bool = False) -> None:
        """The requester (or a steward, when none) accepts the completion."""
        require_state("acknowledge", self.status, COMPLETED)
        self._check_requester_or_steward(
            by, by_steward, "only-requester-or-steward-can-acknowledge"
        )
        self._acknowledged(by=by)

    def dispute(self, by: UUID, reason: str, by_steward: bool = False) -> None:
        """The requester (or a steward, when none) disputes completion; it is active again."""
        require_state("dispute", self.status, COMPLETED)
        self._check_requester_or_steward(by, by_steward, "only-requester-or-steward-can-dispute")
        require_text("reason", reason)
        self._disputed(by=by, reason=reason)

    def cancel(self, by: UUID, reason: str, by_steward: bool = False) -> None:
        """The requester (or a steward, when none) cancels an active commitment."""
        require_state("cancel", self.status, ACTIVE)
        self._check_requester_or_steward(by, by_steward, "only-requester-or-steward-can-cancel")
        require_text("reason", reason)
        self._cancelled(by=by, reason=reason)

    def reopen(self, by: UUID, reason: str = "") -> None:
        """The owner reopens a completed commitment."""
        require_state("reopen", self.status, COMPLETED)
        self._check_owner(by, "only-owner-can-reopen")
        self._reopened(by=by, reason=reason)

    def link_purpose(
        self, by: UUID, purpose_id: UUID, purpose_retired: bool = False, by_steward: bool = False
    ) -> None:
        """Cite another purpose; the caller says whether it is retired."""
        require_state("link_purpose", self.status, PROPOSED, ACTIVE)
        rule = "only-parties-or-stewards-can-link-purposes"
        require_rule(self.is_party(by) or by_steward, rule, by)
        require_rule(not purpose_retired, "purpose-is-retired")
        if purpose_id in self.purpose_ids:
            raise InvalidValue("purpose_id", "already linked")
        self._purpose_linked(by=by, purpose_id=purpose_id)

    def unlink_purpose(self, by: UUID, purpose_id: UUID, by_steward: bool = False) -> None:
        """Stop citing a purpose; at least one always remains."""
        require_state("unlink_purpose", self.status, PROPOSED, ACTIVE)
        rule = "only-parties-or-stewards-can-unlink-purposes"
        require_rule(self.is_party(by) or by_steward, rule, by)
        if purpose_id not in self.purpose_ids:
            raise InvalidValue("purpose_id", "not linked")
        require_rule(len(self.purpose_ids) > 1, "commitment-needs-a-purpose")
        self._purpose_unlinked(by=by, purpose_id=purpose_id)

    def comment(self, by: UUID, text: str) -> None:
        """Anyone comments, in any state."""
        require_text("text", text)
        self._commented(by=by, text=text)

    def correct_record(
        self,
        by: UUID,
        reason: str,
        due_on: date | None,
        description: str | None = None,
        by_steward: bool = False,
    ) -> None:
        """Fix a recording mistake, in any state; this is not a renegotiation."""
        rule = "only-parties-or-stewards-can-correct-the-record"
        require_rule(self.is_party(by) or by_steward, rule, by)
        require_text("reason", reason)
        new_description, new_due_on = self._changed_terms(description, due_on)
        self._record_corrected(by=by, reason=reason, description=new_description, due_on=new_due_on)

    @event(Accepted)
    def _accepted(self, by: UUID) -> None:
        self.status = ACTIVE
        self.offered_terms = None

    @event(Declined)
    def _declined(self, by: UUID, reason: str) -> None:
        self.status = DECLINED
        self.offered_terms = None

    @event(CounterOffered)
    def _counter_offered(self, by: UUID, description: str, due_on: date | None, note: str) -> None:
        self.offered_terms = (description, due_on)

    @event(CounterOfferAccepted)
    def _counter_offer_accepted(self, by: UUID) -> None:
        assert self.offered_terms is not None
        self.description, self.due_on = self.offered_terms
        self.original_due_on = self.due_on
        self.offered_terms = None
        self.status = ACTIVE

    @event(Withdrawn)
    def _withdrawn(self, by: UUID, reason: str) -> None:
        self.status = WITHDRAWN
        self.offered_terms = None

    @event(ProgressReported)
    def _progress_reported(self, by: UUID, percent: int, note: str) -> None:
        self.progress = percent

    @event(Renegotiated)
    def _renegotiated(self, by: UUID, reason: str, description: str, due_on: date | None) -> None:
        self.description, self.due_on = description, due_on
        self.renegotiation_count += 1

    @event(RenegotiationProposed)
    def _renegotiation_proposed(
        self, by: UUID, reason: str, description: str, due_on: date | None
    ) -> None:
        self.proposed_terms = (description, due_on)

    @event(RenegotiationAgreed)
    def _renegotiation_agreed(self, by: UUID) -> None:
        assert self.proposed_terms is not None
        self.description, self.due_on = self.proposed_terms
        self.proposed_terms = None
        self.renegotiation_count += 1

    @event(RenegotiationRejected)
    def _renegotiation_rejected(self, by: UUID, reason: str) -> None:
        self.proposed_terms = None

    @event(HandoverOffered)
    def _handover_offered(self, by: UUID, to_id: UUID, note: str) -> None:
        self.handover_to = to_id

    @event(HandoverAccepted)
    def _handover_accepted(self, by: UUID) -> None:
        self.owner_id = by
        self.handover_to = None

    @event(HandoverDeclined)
    def _handover_declined(self, by: UUID, reason: str) -> None:
        self.handover_to = None

    @event(HandoverWithdrawn)
    def _handover_withdrawn(self, by: UUID) -> None:
        self.handover_to = None

    @event(Released)
    def _released(self, by: UUID, reason: str) -> None:
        self._close(RELEASED)

    @event(Completed)
    def _completed(self, by: UUID, note: str) -> None:
        self._close(COMPLETED)

    @event(Acknowledged)
    def _acknowledged(self, by: UUID) -> None:
        self.status = ACKNOWLEDGED

    @event(Disputed)
    def _disputed(self, by: UUID, reason: str) -> None:
        self.status = ACTIVE

    @event(Cancelled)
    def _cancelled(self, by: UUID, reason: str) -> None:
        self._close(CANCELLED)

    @event(Reopened)
    def _reopened(self, by: UUID, reason: str) -> None:
        self.status = ACTIVE

    @event(PurposeLinked)
    def _purpose_linked(self, by: UUID, purpose_id: UUID) -> None:
        self.purpose_ids = (*self.purpose_ids, purpose_id)

    @event(PurposeUnlinked)
    def _purpose_unlinked(self, by: UUID, purpose_id: UUID) -> None:
        self.purpose_ids = tuple(p for p in self.purpose_ids if p != purpose_id)

    @event(Commented)
    def _commented(self, by: UUID, text: str) -> None:
        pass

    @event(RecordCorrected)
    def _record_corrected(
        self, by: UUID, reason: str, description: str, due_on: date | None
    ) -> None:
        self.description, self.due_on = description, due_on
        if self.renegotiation_count == 0:
            self.original_due_on = due_on

    def _close(self, status: str) -> None:
        """Leave active: a pending handover or renegotiation lapses with it."""
        self.status = status
        self.handover_to = None
        self.proposed_terms = None
