"""Commitment: a leader's promise to a shared purpose, through its whole lifecycle.

The aggregate holds what must sit in its own class body: its events, its making, and how each
event changes its state. The commands that raise them are grouped by what they are for, in
commitment_negotiation, commitment_handover, commitment_delivery and commitment_record.
"""

from collections.abc import Collection
from datetime import date
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain import commitment_events as ev
from tracker.domain.checks import require_rule, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.commitment_delivery import Delivery
from tracker.domain.commitment_handover import Handover
from tracker.domain.commitment_negotiation import Negotiation
from tracker.domain.commitment_record import Record
from tracker.domain.commitment_terms import (
    ACKNOWLEDGED,
    ACTIVE,
    CANCELLED,
    COMPLETED,
    DECLINED,
    MADE_IN_ROOM,
    PROPOSED,
    PROPOSED_TO_ABSENT,
    RELEASED,
    WITHDRAWN,
    Terms,
    check_due,
)
from tracker.domain.errors import InvalidValue


class Commitment(Negotiation, Handover, Delivery, Record, Aggregate):
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
        recorded_by: str | None = None,
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
        check_due(due_on, made_on)
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
            recorded_by=recorded_by,
        )

    @classmethod
    def minute(
        cls,
        id: UUID,
        *,
        meeting_id: UUID,
        attended: Collection[UUID],
        recorded_by: str,
        owner_id: UUID,
        requester_id: UUID | None = None,
        **terms: Any,
    ) -> Self:
        """A commitment in a meeting's minutes: made by its owner if they attended, and so
        active at once; otherwise proposed to them. Whoever asked attended, if anyone did."""
        if requester_id is not None and requester_id not in attended:
            raise InvalidValue("requester_id", "the requester must be recorded as attending")
        return cls.make(
            id,
            owner_id=owner_id,
            by=owner_id if owner_id in attended else None,
            requester_id=requester_id,
            meeting_id=meeting_id,
            recorded_by=recorded_by,
            **terms,
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
        recorded_by: str | None = None,
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
        self.asked_for: Terms = (description, due_on)
        self.meeting_id = meeting_id
        self.recorded_by = recorded_by
        self.status = ACTIVE if made_by == owner_id else PROPOSED
        self.agreed: Terms | None = self.asked_for if self.status == ACTIVE else None
        self.minuted_as = None
        if recorded_by is not None:
            self.minuted_as = MADE_IN_ROOM if self.status == ACTIVE else PROPOSED_TO_ABSENT
        self.progress = None
        self.renegotiation_count = 0
        self.offered_terms = None
        self.proposed_terms = None
        self.handover_to = None

    @event(Accepted)
    def _accepted(self, by: UUID) -> None:
        self.status = ACTIVE
        self.offered_terms = None
        self.agreed = (self.description, self.due_on)

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
        # The counter-offer is what was agreed; what was asked for, and its due date, stay.
        self.description, self.due_on = self.agreed = self.offered_terms
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
            self._correct_original((description, due_on))

    def _correct_original(self, terms: Terms) -> None:
        """Before any renegotiation the current terms are the agreed ones, and, unless a
        counter-offer was agreed, the ones asked for: a correction corrects them too."""
        if self.agreed is None or self.agreed == self.asked_for:
            self.asked_for = terms
            self.original_due_on = terms[1]
        if self.agreed is not None:
            self.agreed = terms

    def _close(self, status: str) -> None:
        """Leave active: a pending handover or renegotiation lapses with it."""
        self.status = status
        self.handover_to = None
        self.proposed_terms = None
