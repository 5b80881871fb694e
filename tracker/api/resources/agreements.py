"""Agreements: how a forum decides, what members expect, what it honours; adopted by stewards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep, RepositoryDep
from tracker.api.resources.common import (
    READ_ERRORS,
    created,
    meeting_of,
    new_id,
    post_command,
    post_creation,
    recorded,
    referenced,
    state,
    updated,
)
from tracker.api.schemas import Adoption, Command, Creation, Name, Reason, Reasoned, Recorded, Text
from tracker.api.time_travel import AsOfQuery
from tracker.application import policy
from tracker.application.commands import Commands, Request, at_version
from tracker.application.ports import Repository
from tracker.audit.as_of import get_as_of
from tracker.domain import Agreement, Forum, InvalidValue, Purpose
from tracker.domain.agreement import DECISION_RULE, FORUM

PATH = "/agreements"


class ProposeAgreement(Creation, frozen=True, kw_only=True):
    """Propose an agreement for a forum, or for a purpose (in the purpose's forum)."""

    scope: Literal["forum", "purpose"]
    scope_id: UUID
    kind: Literal["decision_rule", "expectation", "constraint"]
    title: Name
    text: Text


class Amendment(Command, frozen=True, kw_only=True):
    """New text, and why it changed."""

    text: Text
    reason: Reason


class AgreementState(msgspec.Struct, frozen=True, kw_only=True):
    """An agreement as it stands now; `amendments` counts the amendments of its text."""

    id: UUID
    version: int
    scope: str
    scope_id: UUID
    kind: str
    title: str
    text: str
    proposed_by: UUID
    status: str
    in_force: bool
    decision_rule: str | None
    meeting_id: UUID | None
    amendments: int
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, a: Agreement) -> AgreementState:
        """The public view of the aggregate."""
        return cls(
            id=a.id,
            version=a.version,
            scope=a.scope,
            scope_id=a.scope_id,
            kind=a.kind,
            title=a.title,
            text=a.text,
            proposed_by=a.proposed_by,
            status=a.status,
            in_force=a.in_force,
            decision_rule=a.decision_rule,
            meeting_id=a.meeting_id,
            amendments=a.amendments,
            created_on=a.created_on,
            modified_on=a.modified_on,
        )


async def forum_of(repository: Repository, scope: str, scope_id: UUID) -> Forum:
    """The forum an agreement belongs to: its scope, or its purpose's forum."""
    if scope == FORUM:
        return await repository.get(Forum, scope_id)
    purpose = await repository.get(Purpose, scope_id)
    return await repository.get(Forum, purpose.forum_id)


async def scoped_forum(repository: Repository, scope: str, scope_id: UUID) -> Forum:
    """The forum a new agreement's scope refers to; an unknown or retired scope is refused."""
    if scope == FORUM:
        return await referenced(repository, Forum, scope_id, "scope_id")
    purpose = await referenced(repository, Purpose, scope_id, "scope_id")
    if purpose.is_retired:
        raise InvalidValue("scope_id", "the purpose is retired")
    return await repository.get(Forum, purpose.forum_id)


def governs(agreement: Agreement) -> bool:
    """Whether the agreement is one of its forum's own decision rules."""
    return agreement.scope == FORUM and agreement.kind == DECISION_RULE


async def with_forum(
    call: Request,
    commands: Commands,
    agreement_id: UUID,
    act: Callable[[Agreement, Forum], Awaitable[None]],
) -> Response[Recorded]:
    """Act on an agreement and its forum, then save both in one append (the forum if changed)."""
    # If-Match applies to the agreement alone, the stream the client names; a concurrent write
    # to the forum is retried like any other (Commands.create).

    async def build() -> list[Agreement | Forum]:
        agreement = await at_version(commands.repository, Agreement, agreement_id, call.if_match)
        forum = await forum_of(commands.repository, agreement.scope, agreement.scope_id)
        await act(agreement, forum)
        return [agreement, forum]

    return recorded(await commands.create(call, build), agreement_id)


class AgreementController(Controller):
    """Agreements of a forum or a purpose, and their adoption, amendment and rescission."""

    path = PATH
    tags = ("agreements",)

    @post_creation(
        operation_id="proposeAgreement",
        summary="Propose an agreement for a forum or a purpose (a member)",
    )
    async def propose(
        self, data: JSONBody[ProposeAgreement], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """A member of the forum proposes; an integration names the member with On-Behalf-Of."""
        agreement_id, call = new_id(data, call)

        async def build() -> list[Agreement]:
            policy.writer(call.principal)
            forum = await scoped_forum(commands.repository, data.scope, data.scope_id)
            by = policy.acting_member(call.principal, forum, "propose-agreements")
            return [
                Agreement.propose(
                    agreement_id, data.scope, data.scope_id, data.kind, data.title, data.text, by
                )
            ]

        return created(await commands.create(call, build), agreement_id, PATH)

    @get(
        "/{agreement_id:uuid}",
        operation_id="getAgreement",
        summary="Get an agreement's current state",
        responses=READ_ERRORS,
    )
    async def get_agreement(
        self, agreement_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
    ) -> Response[AgreementState]:
        """Loaded from its own stream; the ETag is its version."""
        agreement = await get_as_of(repository, Agreement, agreement_id, as_of)
        return state(AgreementState.of(agreement), agreement.version)  # type: ignore[return-value]

    @post_command(
        "/{agreement_id:uuid}/adoption",
        operation_id="adoptAgreement",
        summary="Adopt the agreement, naming the decision rule used (a steward)",
    )
    async def adopt(
        self,
        agreement_id: FromPath[UUID],
        data: JSONBody[Adoption],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """A forum's first decision rule may be adopted by "bootstrap consent"; no later one."""

        async def act(agreement: Agreement, forum: Forum) -> None:
            policy.steward(call.principal, forum, "adopt-agreements")
            await meeting_of(commands.repository, data.meeting_id, forum)
            agreement.adopt(data.decision_rule, data.meeting_id, forum.has_decision_rule)
            if governs(agreement):
                forum.adopt_decision_rule(agreement.id)

        return await with_forum(call, commands, agreement_id, act)

    @post_command(
        "/{agreement_id:uuid}/amendments",
        operation_id="amendAgreement",
        summary="Amend the text, with a reason (a steward)",
    )
    async def amend(
        self,
        agreement_id: FromPath[UUID],
        data: JSONBody[Amendment],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Proposed or adopted agreements may be amended; the text must change."""

        async def act(agreement: Agreement) -> None:
            forum = await forum_of(commands.repository, agreement.scope, agreement.scope_id)
            policy.steward(call.principal, forum, "amend-agreements")
            agreement.amend(data.text, data.reason)

        return await updated(call, commands, Agreement, agreement_id, act)

    @post_command(
        "/{agreement_id:uuid}/rescission",
        operation_id="rescindAgreement",
        summary="Take an adopted agreement out of force, with a reason (a steward)",
    )
    async def rescind(
        self,
        agreement_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Rescinding a forum's only decision rule lets bootstrap consent be used again."""

        async def act(agreement: Agreement, forum: Forum) -> None:
            policy.steward(call.principal, forum, "rescind-agreements")
            agreement.rescind(data.reason)
            # Decision rules adopted before the forum kept track of them are not in its set.
            if agreement.id in forum.decision_rules:
                forum.rescind_decision_rule(agreement.id)

        return await with_forum(call, commands, agreement_id, act)
