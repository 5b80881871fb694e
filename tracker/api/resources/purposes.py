"""Purposes: proposed to a forum, then endorsed, revised, adopted and retired as sub-resources."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep, PrincipalDep, RepositoryDep
from tracker.api.resources.common import (
    READ_ERRORS,
    created,
    new_id,
    post_command,
    post_creation,
    recorded,
    state,
)
from tracker.api.schemas import (
    ADOPTION_RULE,
    Adoption,
    AffiliationView,
    Command,
    Creation,
    DecisionView,
    Reason,
    Reasoned,
    Recorded,
    Text,
)
from tracker.api.time_travel import AsOfQuery, read_as_of
from tracker.application import bounds, purposes
from tracker.application.bounds import latest
from tracker.domain import Purpose

PATH = "/purposes"


class ProposePurpose(Creation, frozen=True, kw_only=True):
    """Propose a purpose to a forum you are a member of."""

    forum_id: UUID
    statement: Text


class Revision(Command, frozen=True, kw_only=True):
    """A new statement, and why it changed."""

    statement: Text
    reason: Reason


class Endorsement(Command, frozen=True, kw_only=True):
    """An empty object, or no body: the server records who you are and your affiliation."""


class EndorsementView(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who endorses the purpose."""

    leader_id: UUID
    affiliation: AffiliationView | None


class PurposeState(msgspec.Struct, frozen=True, kw_only=True):
    """A purpose as it stands now; `revisions` counts the revisions of its statement."""

    id: UUID
    version: int
    forum_id: UUID
    statement: str
    proposed_by: UUID
    status: str
    decision_rule: str | None
    decision: DecisionView | None
    revisions: int
    endorsements: list[EndorsementView]
    endorsements_total: int
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, p: Purpose) -> PurposeState:
        """The public view of the aggregate."""
        endorsements = [
            EndorsementView(leader_id=leader_id, affiliation=AffiliationView.of(a))
            for leader_id, a in latest(list(p.endorsements.items()), bounds.ENDORSEMENTS)
        ]
        return cls(
            id=p.id,
            version=p.version,
            forum_id=p.forum_id,
            statement=p.statement,
            proposed_by=p.proposed_by,
            status=p.status,
            decision_rule=p.decision_rule,
            decision=DecisionView.of(p.decision),
            revisions=p.revisions,
            endorsements=endorsements,
            endorsements_total=len(p.endorsements),
            created_on=p.created_on,
            modified_on=p.modified_on,
        )


class PurposeController(Controller):
    """Purposes: shared aims of a forum, endorsed across organisations."""

    path = PATH
    tags = ("purposes",)

    @post_creation(
        operation_id="proposePurpose",
        summary="Propose a purpose to a forum (a member)",
    )
    async def propose(
        self, data: JSONBody[ProposePurpose], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """A member proposes; an integration names the member with On-Behalf-Of."""
        purpose_id, call = new_id(data, call)
        command = purposes.ProposePurpose(
            purpose_id=purpose_id, forum_id=data.forum_id, statement=data.statement
        )
        return created(await purposes.propose(commands, call, command), purpose_id, PATH)

    @get(
        "/{purpose_id:uuid}",
        operation_id="getPurpose",
        summary="Get a purpose's current state",
        description=(
            f"`endorsements` lists the latest {bounds.ENDORSEMENTS}, in the order given, and "
            "`endorsements_total` counts them all (all of them: the purpose's stream, "
            "`/streams/{purpose_id}/events`). `revisions` counts the revisions of the "
            "statement; the purpose view lists the latest."
        ),
        responses=READ_ERRORS,
    )
    async def get_purpose(
        self,
        purpose_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        as_of: AsOfQuery = None,
    ) -> Response[PurposeState]:
        """Loaded from its own stream; the ETag is its version."""
        purpose = await read_as_of(repository, principal, Purpose, purpose_id, as_of)
        return state(PurposeState.of(purpose), purpose.version)  # type: ignore[return-value]

    @post_command(
        "/{purpose_id:uuid}/revisions",
        operation_id="revisePurpose",
        summary="Revise the statement, with a reason (a member)",
    )
    async def revise(
        self,
        purpose_id: FromPath[UUID],
        data: JSONBody[Revision],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Proposed or adopted purposes may be revised; the statement must change."""
        command = purposes.RevisePurpose(
            purpose_id=purpose_id, statement=data.statement, reason=data.reason
        )
        return recorded(await purposes.revise(commands, call, command), purpose_id)

    @post_command(
        "/{purpose_id:uuid}/endorsements",
        operation_id="endorsePurpose",
        summary="Endorse the purpose (a member, themselves)",
    )
    async def endorse(
        self,
        purpose_id: FromPath[UUID],
        call: Call,
        commands: CommandsDep,
        data: JSONBody[Endorsement | None] = None,
    ) -> Response[Recorded]:
        """The server snapshots your affiliation on today's date where the forum meets."""
        command = purposes.PurposeStep(purpose_id=purpose_id)
        return recorded(await purposes.endorse(commands, call, command), purpose_id)

    @post_command(
        "/{purpose_id:uuid}/endorsement-withdrawals",
        operation_id="withdrawPurposeEndorsement",
        summary="Withdraw your endorsement (the endorser)",
    )
    async def withdraw_endorsement(
        self, purpose_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Allowed even after leaving the forum: an endorsement stays the endorser's own."""
        command = purposes.PurposeStep(purpose_id=purpose_id)
        return recorded(await purposes.withdraw_endorsement(commands, call, command), purpose_id)

    @post_command(
        "/{purpose_id:uuid}/adoption",
        operation_id="adoptPurpose",
        summary="Adopt the purpose under a decision rule of the forum in force (a steward)",
        description=ADOPTION_RULE,
    )
    async def adopt(
        self,
        purpose_id: FromPath[UUID],
        data: JSONBody[Adoption],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The rule must be a decision rule of the purpose's forum in force, else a 422 naming
        `decision_rule_id`; the meeting, if named, must be one of the forum's."""
        command = purposes.AdoptPurpose(
            purpose_id=purpose_id, basis=data.basis(), meeting_id=data.meeting_id
        )
        return recorded(await purposes.adopt(commands, call, command), purpose_id)

    @post_command(
        "/{purpose_id:uuid}/retirement",
        operation_id="retirePurpose",
        summary="Retire the purpose, with a reason (a steward)",
    )
    async def retire(
        self,
        purpose_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Commitments may no longer cite a retired purpose."""
        command = purposes.RetirePurpose(purpose_id=purpose_id, reason=data.reason)
        return recorded(await purposes.retire(commands, call, command), purpose_id)
