"""The table of a commitment's lifecycle: each step's route, documentation, body and command."""

from __future__ import annotations

import msgspec

from tracker.api.resources.commitments import (
    CommentBody,
    HandoverOffer,
    NewTerms,
    ProgressReport,
    PurposeLink,
)
from tracker.api.schemas import Command, OptionalReason, Reasoned
from tracker.application import commitment_commands as c


class Route(msgspec.Struct, frozen=True, kw_only=True):
    """One step as a route: its body's fields are the command's, beside the commitment's id."""

    path: str
    operation_id: str
    summary: str
    description: str
    command: type[c.CommitmentStep]
    body: type[Command] | None = None


def step(
    path: str,
    operation_id: str,
    summary: str,
    description: str,
    command: type[c.CommitmentStep],
    body: type[Command] | None = None,
) -> Route:
    """A POST to a sub-resource of one commitment."""
    return Route(
        path="/{commitment_id:uuid}/" + path,
        operation_id=operation_id,
        summary=summary,
        description=description,
        command=command,
        body=body,
    )


ROUTES = (
    step(
        "acceptance",
        "acceptCommitment",
        "Accept a proposed commitment (the owner)",
        "The owner takes on a commitment recorded for them, on the terms asked.",
        c.Accept,
    ),
    step(
        "declination",
        "declineCommitment",
        "Decline a proposed commitment (the owner)",
        "The owner says no, with a reason.",
        c.Decline,
        Reasoned,
    ),
    step(
        "counter-offers",
        "counterOfferCommitment",
        "Offer different terms (the owner)",
        "The owner proposes other terms; the requester may accept them.",
        c.CounterOffer,
        NewTerms,
    ),
    step(
        "counter-offer-acceptance",
        "acceptCounterOffer",
        "Accept the owner's counter-offer (the requester)",
        "The requester agrees the owner's terms; the commitment becomes active.",
        c.AcceptCounterOffer,
    ),
    step(
        "withdrawal",
        "withdrawCommitment",
        "Withdraw a request (the requester, or a steward)",
        "The requester no longer asks for this.",
        c.Withdraw,
        OptionalReason,
    ),
    step(
        "progress-reports",
        "reportProgress",
        "Report progress, 0-100 (the owner)",
        "Progress may go down, with a note saying why.",
        c.ReportProgress,
        ProgressReport,
    ),
    step(
        "renegotiations",
        "renegotiateCommitment",
        "Change the terms, with a reason (the owner)",
        "Without a requester the change applies; with one it waits for their agreement.",
        c.Renegotiate,
        NewTerms,
    ),
    step(
        "renegotiation-agreement",
        "agreeRenegotiation",
        "Agree proposed new terms (the requester)",
        "The requester agrees; the new terms apply.",
        c.AgreeRenegotiation,
    ),
    step(
        "renegotiation-rejection",
        "rejectRenegotiation",
        "Reject proposed new terms (the requester)",
        "The requester keeps the original terms.",
        c.RejectRenegotiation,
        OptionalReason,
    ),
    step(
        "handover-offers",
        "offerHandover",
        "Offer the commitment to another leader (the owner)",
        "The owner stays accountable until the other leader accepts.",
        c.OfferHandover,
        HandoverOffer,
    ),
    step(
        "handover-acceptance",
        "acceptHandover",
        "Accept a handover offered to you",
        "The offered leader becomes the accountable owner.",
        c.AcceptHandover,
    ),
    step(
        "handover-declination",
        "declineHandover",
        "Decline a handover offered to you",
        "The owner stays the owner.",
        c.DeclineHandover,
        OptionalReason,
    ),
    step(
        "handover-withdrawal",
        "withdrawHandover",
        "Withdraw a handover offer (the owner)",
        "The owner takes the offer back.",
        c.WithdrawHandover,
    ),
    step(
        "release",
        "releaseCommitment",
        "Release the commitment, with a reason (the owner)",
        "An honourable outcome: the owner says it will not be done, and why.",
        c.Release,
        Reasoned,
    ),
    step(
        "completion",
        "completeCommitment",
        "Declare the commitment done (the owner)",
        "The requester may then acknowledge or dispute it.",
        c.Complete,
        OptionalReason,
    ),
    step(
        "acknowledgement",
        "acknowledgeCompletion",
        "Acknowledge completion (the requester, or a steward)",
        "The requester is satisfied.",
        c.Acknowledge,
    ),
    step(
        "disputes",
        "disputeCompletion",
        "Dispute completion, with a reason (the requester, or a steward)",
        "The commitment goes back to active.",
        c.Dispute,
        Reasoned,
    ),
    step(
        "cancellation",
        "cancelCommitment",
        "Cancel, with a reason (the requester, or a steward)",
        "The requester no longer needs it.",
        c.Cancel,
        Reasoned,
    ),
    step(
        "reopening",
        "reopenCommitment",
        "Reopen a completed commitment (the owner)",
        "Back to active.",
        c.Reopen,
        OptionalReason,
    ),
    step(
        "purpose-links",
        "linkPurpose",
        "Cite another purpose (a party, or a steward)",
        "The purpose must be in the commitment's forum and not retired.",
        c.LinkPurpose,
        PurposeLink,
    ),
    step(
        "purpose-unlinks",
        "unlinkPurpose",
        "Stop citing a purpose (a party, or a steward)",
        "At least one purpose always remains.",
        c.UnlinkPurpose,
        PurposeLink,
    ),
    step(
        "comments",
        "commentOnCommitment",
        "Comment, in any state",
        "Leaders comment as themselves; a recorder comments on behalf of a named leader.",
        c.Comment,
        CommentBody,
    ),
    step(
        "corrections",
        "correctCommitmentRecord",
        "Correct the record, with a reason (a party, or a steward)",
        "Fix a recording mistake in any state; this is not a renegotiation.",
        c.CorrectRecord,
        NewTerms,
    ),
)
