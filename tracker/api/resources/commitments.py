"""Commitments: make or request one, read its state; the bodies of its lifecycle's steps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath, JSONBody

from projections.queries.leader_view import READS
from projections.queries.names import NO_NAMES, OneCommitmentNames, names_of_one
from tracker.api.dependencies import Call, CommandsDep, PrincipalDep, RepositoryDep
from tracker.api.resources.common import created, new_id, post_creation, state
from tracker.api.resources.view_support import VIEW_ERRORS, MinPosition, consistent
from tracker.api.schemas import (
    Command,
    Creation,
    Day,
    Ids,
    OptionalText,
    Percent,
    Recorded,
    Text,
)
from tracker.api.time_travel import AsOfQuery, ViewsDep, read_as_of
from tracker.application import commitments
from tracker.application.commitments import MakeCommitment as MakeCommitmentCommand
from tracker.domain import Commitment
from tracker.domain.commitment_terms import Terms

PATH = "/commitments"
GET_DESCRIPTION = """\
The commitment loaded from its own stream, so always up to date; the ETag is its version. The
names beside its ids (owner, organisation and role, requester, handover target, maker, forum,
purposes' statements, meeting) come from the views, as the leader view shows them: pass
`min_position` to wait until they include a command of yours. With `as_of`, the commitment and
the names are as they stood then (a replay of the views, as for any view `as_of`).
"""


class MakeCommitment(Creation, frozen=True, kw_only=True):
    """Make a commitment (owner_id is you) or record one for someone else (it starts proposed)."""

    forum_id: UUID
    owner_id: UUID
    description: Text
    purpose_ids: Ids
    due_on: Day | None = None
    meeting_id: UUID | None = None


class NewTerms(Command, frozen=True, kw_only=True):
    """Changed terms: the full new due date (null for none) and, optionally, a new description."""

    due_on: Day | None
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


class TermsState(msgspec.Struct, frozen=True, kw_only=True):
    """A description and due date, as asked for or as agreed."""

    description: str
    due_on: date | None

    @classmethod
    def of(cls, terms: Terms | None) -> TermsState | None:
        """The public view of a pair of terms, if any."""
        return None if terms is None else cls(description=terms[0], due_on=terms[1])


class CommitmentState(OneCommitmentNames, frozen=True, kw_only=True):
    """A commitment as it stands now, loaded from its own stream.

    The names beside its ids (owner_name, forum_name, purposes' statements...) come from the
    views: current ones, or with `as_of` those of then; null for one the views do not yet hold.
    `owner_organisation_id` is the owner's organisation on the day it was made (or taken over).

    Three sets of terms: `asked_for`, the terms first recorded (what the requester asked for,
    or what the owner first promised); `agreed`, the terms agreed when it became active (the
    counter-offer, if one was accepted; null while proposed, or if it never became active);
    and the current `description` and `due_on`, after any renegotiation. `original_due_on` is
    the due date asked for.
    """

    id: UUID
    version: int
    status: str
    forum_id: UUID
    owner_id: UUID
    requester_id: UUID | None
    made_by: UUID | None
    recorded_by: Annotated[
        str | None,
        msgspec.Meta(description="Who wrote it into a meeting's minutes; never a party"),
    ]
    minuted_as: Annotated[
        str | None,
        msgspec.Meta(
            description="made_in_room or proposed_to_absent for a commitment in minutes; else null"
        ),
    ]
    description: str
    purpose_ids: list[UUID]
    made_on: date
    due_on: date | None
    original_due_on: date | None
    asked_for: TermsState
    agreed: TermsState | None
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
    def of(cls, c: Commitment, names: OneCommitmentNames = NO_NAMES) -> CommitmentState:
        """The public view of the aggregate, with the names of what it names (or none)."""
        return cls(
            **msgspec.structs.asdict(names),
            id=c.id,
            version=c.version,
            status=c.status,
            forum_id=c.forum_id,
            owner_id=c.owner_id,
            requester_id=c.requester_id,
            made_by=c.made_by,
            recorded_by=c.recorded_by,
            minuted_as=c.minuted_as,
            description=c.description,
            purpose_ids=list(c.purpose_ids),
            made_on=c.made_on,
            due_on=c.due_on,
            original_due_on=c.original_due_on,
            asked_for=TermsState(description=c.asked_for[0], due_on=c.asked_for[1]),
            agreed=TermsState.of(c.agreed),
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


class CommitmentController(Controller):
    """Commitments made or recorded, and their current state; steps are in commitment_steps."""

    path = PATH
    tags = ("commitments",)

    @post_creation(
        operation_id="makeCommitment",
        summary="Make a commitment, or record one for someone else",
    )
    async def make(
        self, data: JSONBody[MakeCommitment], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Made by the owner it is active at once; recorded by anyone else it starts proposed."""
        commitment_id, call = new_id(data, call)
        command = MakeCommitmentCommand(
            commitment_id=commitment_id,
            forum_id=data.forum_id,
            owner_id=data.owner_id,
            description=data.description,
            purpose_ids=tuple(data.purpose_ids),
            due_on=data.due_on,
            meeting_id=data.meeting_id,
        )
        return created(await commitments.make(commands, call, command), commitment_id, PATH)

    @get(
        "/{commitment_id:uuid}",
        operation_id="getCommitment",
        summary="Get a commitment's current state",
        description=GET_DESCRIPTION,
        responses=VIEW_ERRORS,
    )
    async def get_commitment(
        self,
        commitment_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        views: ViewsDep,
        as_of: AsOfQuery = None,
        min_position: MinPosition = None,
    ) -> Response[CommitmentState]:
        """Loaded from its own stream, so always consistent; the ETag is its version."""
        c = await read_as_of(repository, principal, Commitment, commitment_id, as_of)
        await consistent(views.state.pool, min_position, READS)
        people = (c.owner_id, c.requester_id, c.handover_to, c.made_by)
        async with views.read() as read:
            names = await names_of_one(
                read.pool, c.id, c.forum_id, people, list(c.purpose_ids), c.meeting_id
            )
        return state(CommitmentState.of(c, names), c.version)  # type: ignore[return-value]
