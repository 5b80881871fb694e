"""The steps of a commitment's lifecycle, each a command naming the commitment it acts on."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec


class CommitmentStep(msgspec.Struct, frozen=True, kw_only=True):
    """A step of an existing commitment's lifecycle."""

    commitment_id: UUID


class WithReason(CommitmentStep, frozen=True, kw_only=True):
    """A step that gives (or may give) a reason."""

    reason: str = ""


class Terms(CommitmentStep, frozen=True, kw_only=True):
    """Terms: the full new due date (None for none) and, optionally, a new description."""

    due_on: date | None
    description: str | None = None
    reason: str = ""


class Accept(CommitmentStep, frozen=True, kw_only=True):
    """The owner takes on a commitment recorded for them."""


class Decline(WithReason, frozen=True, kw_only=True):
    """The owner says no, with a reason."""


class CounterOffer(Terms, frozen=True, kw_only=True):
    """The owner proposes other terms."""


class AcceptCounterOffer(CommitmentStep, frozen=True, kw_only=True):
    """The requester agrees the owner's terms."""


class Withdraw(WithReason, frozen=True, kw_only=True):
    """The requester (or a steward) no longer asks for this."""


class ReportProgress(CommitmentStep, frozen=True, kw_only=True):
    """Progress 0-100; a note says why when it goes down."""

    percent: int
    note: str = ""


class Renegotiate(Terms, frozen=True, kw_only=True):
    """The owner changes the terms, with a reason."""


class AgreeRenegotiation(CommitmentStep, frozen=True, kw_only=True):
    """The requester agrees proposed new terms."""


class RejectRenegotiation(WithReason, frozen=True, kw_only=True):
    """The requester keeps the original terms."""


class OfferHandover(CommitmentStep, frozen=True, kw_only=True):
    """The owner offers the commitment to another member of its forum."""

    to_id: UUID
    note: str = ""


class AcceptHandover(CommitmentStep, frozen=True, kw_only=True):
    """The offered leader becomes the owner."""


class DeclineHandover(WithReason, frozen=True, kw_only=True):
    """The offered leader says no."""


class WithdrawHandover(CommitmentStep, frozen=True, kw_only=True):
    """The owner takes the offer back."""


class Release(WithReason, frozen=True, kw_only=True):
    """The owner says it will not be done, and why."""


class Complete(WithReason, frozen=True, kw_only=True):
    """The owner declares it done."""


class Acknowledge(CommitmentStep, frozen=True, kw_only=True):
    """The requester (or a steward) is satisfied."""


class Dispute(WithReason, frozen=True, kw_only=True):
    """The requester (or a steward) disputes completion."""


class Cancel(WithReason, frozen=True, kw_only=True):
    """The requester (or a steward) no longer needs it."""


class Reopen(WithReason, frozen=True, kw_only=True):
    """The owner reopens a completed commitment."""


class LinkPurpose(CommitmentStep, frozen=True, kw_only=True):
    """Cite another purpose of the commitment's forum."""

    purpose_id: UUID


class UnlinkPurpose(CommitmentStep, frozen=True, kw_only=True):
    """Stop citing a purpose."""

    purpose_id: UUID


class Comment(CommitmentStep, frozen=True, kw_only=True):
    """A comment, in any state."""

    text: str


class CorrectRecord(Terms, frozen=True, kw_only=True):
    """Fix a recording mistake; not a renegotiation."""
