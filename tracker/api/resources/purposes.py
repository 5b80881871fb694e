"""Purposes: proposed to a forum, then endorsed, revised, adopted and retired as sub-resources."""

from __future__ import annotations

from datetime import datetime
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
    meeting_of,
    new_id,
    post_command,
    post_creation,
    referenced,
    state,
    updated,
)
from tracker.api.schemas import (
    Adoption,
    AffiliationView,
    Command,
    Creation,
    Reason,
    Reasoned,
    Recorded,
    Text,
)
from tracker.api.time_travel import AsOfQuery
from tracker.application import policy
from tracker.application.clock import today_in
from tracker.application.ports import Repository
from tracker.audit.as_of import get_as_of
from tracker.domain import AffiliationSnapshot, Forum, Leader, NotAllowed, Organisation, Purpose
from tracker.eventstore.repository import AggregateNotFound

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
    revisions: int
    endorsements: list[EndorsementView]
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, p: Purpose) -> PurposeState:
        """The public view of the aggregate."""
        endorsements = [
            EndorsementView(leader_id=leader_id, affiliation=AffiliationView.of(a))
            for leader_id, a in p.endorsements.items()
        ]
        return cls(
            id=p.id,
            version=p.version,
            forum_id=p.forum_id,
            statement=p.statement,
            proposed_by=p.proposed_by,
            status=p.status,
            decision_rule=p.decision_rule,
            revisions=p.revisions,
            endorsements=endorsements,
            created_on=p.created_on,
            modified_on=p.modified_on,
        )


async def affiliation_of(
    repository: Repository, leader_id: UUID, now: Any, forum: Forum
) -> AffiliationSnapshot | None:
    """The leader's affiliation today where the forum meets; none if unknown."""
    try:
        leader = await repository.read(Leader, leader_id)
        affiliation = leader.affiliation_on(today_in(now, forum.timezone))
        if affiliation is None:
            return None
        organisation = await repository.read(Organisation, affiliation.organisation_id)
    except AggregateNotFound:
        return None
    return affiliation.snapshot(organisation.name)


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

        async def build() -> list[Purpose]:
            policy.writer(call.principal)
            forum = await referenced(commands.repository, Forum, data.forum_id, "forum_id")
            by = policy.acting_member(call.principal, forum, "propose-purposes")
            return [Purpose.propose(purpose_id, forum.id, data.statement, by)]

        return created(await commands.create(call, build), purpose_id, PATH)

    @get(
        "/{purpose_id:uuid}",
        operation_id="getPurpose",
        summary="Get a purpose's current state",
        responses=READ_ERRORS,
    )
    async def get_purpose(
        self, purpose_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
    ) -> Response[PurposeState]:
        """Loaded from its own stream; the ETag is its version."""
        purpose = await get_as_of(repository, Purpose, purpose_id, as_of)
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

        async def act(p: Purpose) -> None:
            forum = await commands.repository.read(Forum, p.forum_id)
            by = policy.acting_member(call.principal, forum, "revise-purposes")
            p.revise(by, data.statement, data.reason)

        return await updated(call, commands, Purpose, purpose_id, act)

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
        state: State,
        data: JSONBody[Endorsement | None] = None,
    ) -> Response[Recorded]:
        """The server snapshots your affiliation on today's date where the forum meets."""
        by = policy.leader(call.principal, "endorse-purposes")

        async def act(p: Purpose) -> None:
            forum = await commands.repository.read(Forum, p.forum_id)
            if not forum.is_member(by):
                raise NotAllowed("only-forum-members-can-endorse-purposes", by)
            p.endorse(by, await affiliation_of(commands.repository, by, state.now, forum))

        return await updated(call, commands, Purpose, purpose_id, act)

    @post_command(
        "/{purpose_id:uuid}/endorsement-withdrawals",
        operation_id="withdrawPurposeEndorsement",
        summary="Withdraw your endorsement (the endorser)",
    )
    async def withdraw_endorsement(
        self, purpose_id: FromPath[UUID], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Allowed even after leaving the forum: an endorsement stays the endorser's own."""
        by = policy.leader(call.principal, "withdraw-endorsements")
        return await updated(
            call, commands, Purpose, purpose_id, lambda p: p.withdraw_endorsement(by)
        )

    @post_command(
        "/{purpose_id:uuid}/adoption",
        operation_id="adoptPurpose",
        summary="Adopt the purpose, naming the decision rule used (a steward)",
    )
    async def adopt(
        self,
        purpose_id: FromPath[UUID],
        data: JSONBody[Adoption],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The meeting, if named, must be one of the purpose's forum."""

        async def act(p: Purpose) -> None:
            forum = await commands.repository.read(Forum, p.forum_id)
            policy.steward(call.principal, forum, "adopt-purposes")
            await meeting_of(commands.repository, data.meeting_id, forum)
            p.adopt(data.decision_rule, data.meeting_id)

        return await updated(call, commands, Purpose, purpose_id, act)

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

        async def act(p: Purpose) -> None:
            forum = await commands.repository.read(Forum, p.forum_id)
            policy.steward(call.principal, forum, "retire-purposes")
            p.retire(data.reason)

        return await updated(call, commands, Purpose, purpose_id, act)
