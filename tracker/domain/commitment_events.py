"""What can happen to a commitment: the events of its stream.

`Commitment` subclasses each event so that it applies itself; rebuild events from storage
with the aggregate's classes (`Commitment.Accepted`, as `registry` does). Matching on the
classes here with isinstance works for both.
"""

from datetime import date
from typing import Any
from uuid import UUID

from tracker.domain.clock import Aggregate


class CommitmentEvent(Aggregate.Event):
    """Base of every commitment event."""


class Made(CommitmentEvent, Aggregate.Created):
    """A commitment was made: active when the owner made it, otherwise proposed.

    `recorded_by` names who wrote it into a meeting's minutes (an actor, such as
    `leader:<id>` or `integration:<name>`), never a party; it is null outside minutes.
    """

    # v1 events were recorded before minutes named their recorder.
    class_version = 2

    forum_id: UUID
    owner_id: UUID
    made_by: UUID | None
    requester_id: UUID | None
    description: str
    purpose_ids: tuple[UUID, ...]
    made_on: date
    due_on: date | None
    meeting_id: UUID | None
    recorded_by: str | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Give a v1 event the recorder it did not name."""
        state["recorded_by"] = None


class Accepted(CommitmentEvent):
    """The owner accepted a proposed commitment."""

    by: UUID


class Declined(CommitmentEvent):
    """The owner declined a proposed commitment."""

    by: UUID
    reason: str


class CounterOffered(CommitmentEvent):
    """The owner offered different terms for a proposed commitment."""

    by: UUID
    description: str
    due_on: date | None
    note: str


class CounterOfferAccepted(CommitmentEvent):
    """The requester accepted the owner's counter-offer."""

    by: UUID


class Withdrawn(CommitmentEvent):
    """The request was withdrawn before the owner accepted it."""

    by: UUID
    reason: str


class ProgressReported(CommitmentEvent):
    """The owner reported progress as a percentage."""

    by: UUID
    percent: int
    note: str


class Renegotiated(CommitmentEvent):
    """The owner changed the terms; there was no requester to agree."""

    by: UUID
    reason: str
    description: str
    due_on: date | None


class RenegotiationProposed(CommitmentEvent):
    """The owner proposed new terms to the requester."""

    by: UUID
    reason: str
    description: str
    due_on: date | None


class RenegotiationAgreed(CommitmentEvent):
    """The requester agreed the proposed terms."""

    by: UUID


class RenegotiationRejected(CommitmentEvent):
    """The requester rejected the proposed terms; the current terms stand."""

    by: UUID
    reason: str


class HandoverOffered(CommitmentEvent):
    """The owner offered the commitment to another leader."""

    by: UUID
    to_id: UUID
    note: str


class HandoverAccepted(CommitmentEvent):
    """The new owner accepted the handover and is now accountable."""

    by: UUID


class HandoverDeclined(CommitmentEvent):
    """The offered leader declined the handover."""

    by: UUID
    reason: str


class HandoverWithdrawn(CommitmentEvent):
    """The owner withdrew a handover offer."""

    by: UUID


class Released(CommitmentEvent):
    """The owner released the commitment, honourably, with a reason."""

    by: UUID
    reason: str


class Completed(CommitmentEvent):
    """The owner completed the commitment."""

    by: UUID
    note: str


class Acknowledged(CommitmentEvent):
    """Completion was acknowledged."""

    by: UUID


class Disputed(CommitmentEvent):
    """Completion was disputed, so the commitment is active again."""

    by: UUID
    reason: str


class Cancelled(CommitmentEvent):
    """The commitment was cancelled."""

    by: UUID
    reason: str


class Reopened(CommitmentEvent):
    """The owner reopened a completed commitment."""

    by: UUID
    reason: str


class PurposeLinked(CommitmentEvent):
    """The commitment now also serves a purpose."""

    by: UUID
    purpose_id: UUID


class PurposeUnlinked(CommitmentEvent):
    """The commitment no longer cites a purpose."""

    by: UUID
    purpose_id: UUID


class Commented(CommitmentEvent):
    """Someone commented on the commitment."""

    by: UUID
    text: str


class RecordCorrected(CommitmentEvent):
    """A mistake in the record was corrected, for a reason; not a renegotiation."""

    by: UUID
    reason: str
    description: str
    due_on: date | None
