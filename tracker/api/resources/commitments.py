"""Commitments: make or request one, then every step of its lifecycle as a sub-resource."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep, RepositoryDep
from tracker.api.resources.common import (
    READ_ERRORS,
    created,
    new_id,
    post_command,
    post_creation,
    referenced,
    state,
    updated,
)
from tracker.api.schemas import (
    Command,
    Creation,
    Ids,
    OptionalReason,
    OptionalText,
    Percent,
    Reasoned,
    Recorded,
    Text,
)
from tracker.api.time_travel import AsOfQuery
from tracker.application import policy
from tracker.application.clock import today_in
from tracker.application.commands import Commands
from tracker.application.ports import Repository
from tracker.application.principal import Principal
from tracker.audit.as_of import get_as_of
from tracker.domain import Commitment, Forum, InvalidValue, Purpose

PATH = "/commitments"


class MakeCommitment(Creation, frozen=True, kw_only=True):
    """Make a commitment (owner_id is you) or record one for someone else (it starts proposed)."""

    forum_id: UUID
    owner_id: UUID
    description: Text
    purpose_ids: Ids
    due_on: date | None = None
    meeting_id: UUID | None = None


class NewTerms(Command, frozen=True, kw_only=True):
    """Changed terms: the full new due date (null for none) and, optionally, a new description."""

    due_on: date | None
    description: Text | None = None
    reason: OptionalText = ""


class ProgressReport(Command, frozen=True, kw_only=True):
    """Progress 0-100; a note is required when it goes down."""

    percent: Percent
    note: OptionalText = ""


class HandoverOffer(Command, frozen=True, kw_only=True):
    """Offer the commitment to another leader; you stay accountable until they accept."""

    to_id: UUID
    note: OptionalText = ""


class PurposeLink(Command, frozen=True, kw_only=True):
    """A purpose to cite, or to stop citing."""

    purpose_id: UUID


class CommentBody(Command, frozen=True, kw_only=True):
    """A comment, allowed in any state."""

    text: Text


class CommitmentState(msgspec.Struct, frozen=True, kw_only=True):
    """A commitment as it stands now, loaded from its own stream."""

    id: UUID
    version: int
    status: str
    forum_id: UUID
    owner_id: UUID
    requester_id: UUID | None
    made_by: UUID | None
    description: str
    purpose_ids: list[UUID]
    made_on: date
    due_on: date | None
    original_due_on: date | None
    renegotiation_count: int
    progress: int | None
    meeting_id: UUID | None
    handover_pending: bool
    handover_to: UUID | None
    renegotiation_pending: bool
    counter_offer_pending: bool
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, c: Commitment) -> CommitmentState:
        """The public view of the aggregate."""
        return cls(
            id=c.id,
            version=c.version,
            status=c.status,
            forum_id=c.forum_id,
            owner_id=c.owner_id,
            requester_id=c.requester_id,
            made_by=c.made_by,
            description=c.description,
            purpose_ids=list(c.purpose_ids),
            made_on=c.made_on,
            due_on=c.due_on,
            original_due_on=c.original_due_on,
            renegotiation_count=c.renegotiation_count,
            progress=c.progress,
            meeting_id=c.meeting_id,
            handover_pending=c.handover_pending,
            handover_to=c.handover_to,
            renegotiation_pending=c.renegotiation_pending,
            counter_offer_pending=c.counter_offer_pending,
            created_on=c.created_on,
            modified_on=c.modified_on,
        )


async def make_commitment(
    repository: Repository,
    now: Any,
    principal: Principal,
    body: MakeCommitment,
    commitment_id: UUID,
) -> Commitment:
    """Check the references and relationships, then make (or record) the commitment."""
    forum = await referenced(repository, Forum, body.forum_id, "forum_id")
    by = policy.member(principal, forum, "make-commitments")
    if not forum.is_member(body.owner_id):
        raise InvalidValue("owner_id", "the owner must be a member of the forum")
    retired = []
    for purpose_id in body.purpose_ids:
        purpose = await referenced(repository, Purpose, purpose_id, "purpose_ids")
        if purpose.forum_id != forum.id:
            raise InvalidValue("purpose_ids", f"purpose {purpose_id} belongs to another forum")
        if purpose.is_retired:
            retired.append(purpose_id)
    requester = by if by != body.owner_id else None
    if by is None:  # a recorder writes down what a named leader asked for, if anyone
        requester = principal.on_behalf_of
    return Commitment.make(
        commitment_id,
        forum_id=forum.id,
        owner_id=body.owner_id,
        by=by,
        description=body.description,
        purpose_ids=body.purpose_ids,
        made_on=today_in(now, forum.timezone),
        due_on=body.due_on,
        requester_id=requester if requester != body.owner_id else None,
        meeting_id=body.meeting_id,
        retired_purpose_ids=retired,
    )


class CommitmentController(Controller):
    """Commitments and their lifecycle; only the owner can promise."""

    path = PATH
    tags = ("commitments",)

    @post_creation(
        operation_id="makeCommitment",
        summary="Make a commitment, or record one for someone else",
    )
    async def make(
        self, data: JSONBody[MakeCommitment], call: Call, commands: CommandsDep, state: State
    ) -> Response[Recorded]:
        """Made by the owner it is active at once; recorded by anyone else it starts proposed."""
        commitment_id, call = new_id(data, call)

        async def build() -> list[Commitment]:
            return [
                await make_commitment(
                    commands.repository, state.now, call.principal, data, commitment_id
                )
            ]

        return created(await commands.create(call, build), commitment_id, PATH)

    @get(
        "/{commitment_id:uuid}",
        operation_id="getCommitment",
        summary="Get a commitment's current state",
        responses=READ_ERRORS,
    )
    async def get_commitment(
        self, commitment_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
    ) -> Response[CommitmentState]:
        """Loaded from its own stream, so always consistent; the ETag is its version."""
        commitment = await get_as_of(repository, Commitment, commitment_id, as_of)
        return state(CommitmentState.of(commitment), commitment.version)  # type: ignore[return-value]

    async def _as_steward(self, commands: Commands, principal: Principal, c: Commitment) -> bool:
        forum = await commands.repository.read(Forum, c.forum_id)
        return policy.is_steward(principal, forum)

    @post_command(
        "/{commitment_id:uuid}/acceptance",
        operation_id="acceptCommitment",
        summary="Accept a proposed commitment (the owner)",
    )
    async def accept(
        self, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The owner takes on a commitment recorded for them, on the terms asked."""
        by = policy.leader(call.principal, "accept")
        return await updated(call, commands, Commitment, commitment_id, lambda c: c.accept(by))

    @post_command(
        "/{commitment_id:uuid}/declination",
        operation_id="declineCommitment",
        summary="Decline a proposed commitment (the owner)",
    )
    async def decline(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The owner says no, with a reason."""
        by = policy.leader(call.principal, "decline")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.decline(by, data.reason)
        )

    @post_command(
        "/{commitment_id:uuid}/counter-offers",
        operation_id="counterOfferCommitment",
        summary="Offer different terms (the owner)",
    )
    async def counter_offer(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[NewTerms],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The owner proposes other terms; the requester may accept them."""
        by = policy.leader(call.principal, "counter-offer")
        act = lambda c: c.counter_offer(by, data.due_on, data.description, data.reason)  # noqa: E731
        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/counter-offer-acceptance",
        operation_id="acceptCounterOffer",
        summary="Accept the owner's counter-offer (the requester)",
    )
    async def accept_counter_offer(
        self, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The requester agrees the owner's terms; the commitment becomes active."""
        by = policy.leader(call.principal, "accept-counter-offers")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.accept_counter_offer(by)
        )

    @post_command(
        "/{commitment_id:uuid}/withdrawal",
        operation_id="withdrawCommitment",
        summary="Withdraw a request (the requester, or a steward)",
    )
    async def withdraw(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The requester no longer asks for this."""
        by = policy.leader(call.principal, "withdraw")

        async def act(c: Commitment) -> None:
            c.withdraw(by, await self._as_steward(commands, call.principal, c), data.reason)

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/progress-reports",
        operation_id="reportProgress",
        summary="Report progress, 0-100 (the owner)",
    )
    async def report_progress(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[ProgressReport],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Progress may go down, with a note saying why."""
        by = policy.leader(call.principal, "report-progress")
        act = lambda c: c.report_progress(by, data.percent, data.note)  # noqa: E731
        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/renegotiations",
        operation_id="renegotiateCommitment",
        summary="Change the terms, with a reason (the owner)",
    )
    async def renegotiate(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[NewTerms],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Without a requester the change applies; with one it waits for their agreement."""
        by = policy.leader(call.principal, "renegotiate")
        act = lambda c: c.renegotiate(by, data.reason, data.due_on, data.description)  # noqa: E731
        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/renegotiation-agreement",
        operation_id="agreeRenegotiation",
        summary="Agree proposed new terms (the requester)",
    )
    async def agree_renegotiation(
        self, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The requester agrees; the new terms apply."""
        by = policy.leader(call.principal, "agree-renegotiations")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.agree_renegotiation(by)
        )

    @post_command(
        "/{commitment_id:uuid}/renegotiation-rejection",
        operation_id="rejectRenegotiation",
        summary="Reject proposed new terms (the requester)",
    )
    async def reject_renegotiation(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The requester keeps the original terms."""
        by = policy.leader(call.principal, "reject-renegotiations")
        return await updated(
            call,
            commands,
            Commitment,
            commitment_id,
            lambda c: c.reject_renegotiation(by, data.reason),
        )

    @post_command(
        "/{commitment_id:uuid}/handover-offers",
        operation_id="offerHandover",
        summary="Offer the commitment to another leader (the owner)",
    )
    async def offer_handover(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[HandoverOffer],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The owner stays accountable until the other leader accepts."""
        by = policy.leader(call.principal, "offer-handovers")

        async def act(c: Commitment) -> None:
            forum = await commands.repository.read(Forum, c.forum_id)
            if not forum.is_member(data.to_id):
                raise InvalidValue("to_id", "must be a member of the commitment's forum")
            c.offer_handover(by, data.to_id, data.note)

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/handover-acceptance",
        operation_id="acceptHandover",
        summary="Accept a handover offered to you",
    )
    async def accept_handover(
        self, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The offered leader becomes the accountable owner."""
        by = policy.leader(call.principal, "accept-handovers")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.accept_handover(by)
        )

    @post_command(
        "/{commitment_id:uuid}/handover-declination",
        operation_id="declineHandover",
        summary="Decline a handover offered to you",
    )
    async def decline_handover(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The owner stays the owner."""
        by = policy.leader(call.principal, "decline-handovers")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.decline_handover(by, data.reason)
        )

    @post_command(
        "/{commitment_id:uuid}/handover-withdrawal",
        operation_id="withdrawHandover",
        summary="Withdraw a handover offer (the owner)",
    )
    async def withdraw_handover(
        self, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The owner takes the offer back."""
        by = policy.leader(call.principal, "withdraw-handovers")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.withdraw_handover(by)
        )

    @post_command(
        "/{commitment_id:uuid}/release",
        operation_id="releaseCommitment",
        summary="Release the commitment, with a reason (the owner)",
    )
    async def release(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """An honourable outcome: the owner says it will not be done, and why."""
        by = policy.leader(call.principal, "release")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.release(by, data.reason)
        )

    @post_command(
        "/{commitment_id:uuid}/completion",
        operation_id="completeCommitment",
        summary="Declare the commitment done (the owner)",
    )
    async def complete(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The requester may then acknowledge or dispute it."""
        by = policy.leader(call.principal, "complete")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.complete(by, data.reason)
        )

    @post_command(
        "/{commitment_id:uuid}/acknowledgement",
        operation_id="acknowledgeCompletion",
        summary="Acknowledge completion (the requester, or a steward)",
    )
    async def acknowledge(
        self, commitment_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The requester is satisfied."""
        by = policy.leader(call.principal, "acknowledge")

        async def act(c: Commitment) -> None:
            c.acknowledge(by, await self._as_steward(commands, call.principal, c))

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/disputes",
        operation_id="disputeCompletion",
        summary="Dispute completion, with a reason (the requester, or a steward)",
    )
    async def dispute(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The commitment goes back to active."""
        by = policy.leader(call.principal, "dispute")

        async def act(c: Commitment) -> None:
            c.dispute(by, data.reason, await self._as_steward(commands, call.principal, c))

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/cancellation",
        operation_id="cancelCommitment",
        summary="Cancel, with a reason (the requester, or a steward)",
    )
    async def cancel(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The requester no longer needs it."""
        by = policy.leader(call.principal, "cancel")

        async def act(c: Commitment) -> None:
            c.cancel(by, data.reason, await self._as_steward(commands, call.principal, c))

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/reopening",
        operation_id="reopenCommitment",
        summary="Reopen a completed commitment (the owner)",
    )
    async def reopen(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Back to active."""
        by = policy.leader(call.principal, "reopen")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.reopen(by, data.reason)
        )

    @post_command(
        "/{commitment_id:uuid}/purpose-links",
        operation_id="linkPurpose",
        summary="Cite another purpose (a party, or a steward)",
    )
    async def link_purpose(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[PurposeLink],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The purpose must be in the commitment's forum and not retired."""
        by = policy.leader(call.principal, "link-purposes")

        async def act(c: Commitment) -> None:
            purpose = await referenced(commands.repository, Purpose, data.purpose_id, "purpose_id")
            if purpose.forum_id != c.forum_id:
                raise InvalidValue("purpose_id", "belongs to another forum")
            steward = await self._as_steward(commands, call.principal, c)
            c.link_purpose(by, purpose.id, purpose.is_retired, steward)

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/purpose-unlinks",
        operation_id="unlinkPurpose",
        summary="Stop citing a purpose (a party, or a steward)",
    )
    async def unlink_purpose(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[PurposeLink],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """At least one purpose always remains."""
        by = policy.leader(call.principal, "unlink-purposes")

        async def act(c: Commitment) -> None:
            c.unlink_purpose(
                by, data.purpose_id, await self._as_steward(commands, call.principal, c)
            )

        return await updated(call, commands, Commitment, commitment_id, act)

    @post_command(
        "/{commitment_id:uuid}/comments",
        operation_id="commentOnCommitment",
        summary="Comment, in any state",
    )
    async def comment(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[CommentBody],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Leaders comment as themselves; a recorder comments on behalf of a named leader."""
        by = call.principal.leader_id or call.principal.on_behalf_of
        policy.writer(call.principal)
        if by is None:
            raise InvalidValue("On-Behalf-Of", "a recorder names the leader it comments for")
        return await updated(
            call, commands, Commitment, commitment_id, lambda c: c.comment(by, data.text)
        )

    @post_command(
        "/{commitment_id:uuid}/corrections",
        operation_id="correctCommitmentRecord",
        summary="Correct the record, with a reason (a party, or a steward)",
    )
    async def correct(
        self,
        commitment_id: FromPath[UUID],
        data: JSONBody[NewTerms],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Fix a recording mistake in any state; this is not a renegotiation."""
        by = policy.leader(call.principal, "correct-the-record")

        async def act(c: Commitment) -> None:
            steward = await self._as_steward(commands, call.principal, c)
            c.correct_record(by, data.reason, data.due_on, data.description, steward)

        return await updated(call, commands, Commitment, commitment_id, act)
