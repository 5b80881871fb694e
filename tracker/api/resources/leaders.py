"""Leaders: people, with dated affiliations to organisations that carry no rights."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
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
from tracker.api.schemas import Command, Creation, Email, Name, OptionalReason, Recorded
from tracker.api.time_travel import AsOfQuery
from tracker.application import policy
from tracker.application.principal import ADMIN, LEADER, Principal
from tracker.audit.as_of import get_as_of
from tracker.domain import Affiliation, InvalidValue, Leader, NotAllowed, Organisation

PATH = "/leaders"


class RegisterLeader(Creation, frozen=True, kw_only=True):
    """Register a person who makes and receives commitments."""

    name: Name
    email: Email | None = None


class AffiliationStart(Command, frozen=True, kw_only=True):
    """An existing organisation the leader works with, their own title there, and since when."""

    organisation_id: UUID
    title: Name
    from_on: date


class AffiliationEnd(Command, frozen=True, kw_only=True):
    """The organisation whose current affiliation ended, and on which day."""

    organisation_id: UUID
    to_on: date


class DetailsCorrection(Command, frozen=True, kw_only=True):
    """The corrected name and, optionally, email: null clears it, leaving it out keeps it."""

    name: Name
    email: Email | msgspec.UnsetType | None = msgspec.UNSET


class AffiliationState(msgspec.Struct, frozen=True, kw_only=True):
    """An affiliation over its dates; to_on is null while it holds."""

    organisation_id: UUID
    title: str
    from_on: date
    to_on: date | None

    @classmethod
    def of(cls, a: Affiliation) -> AffiliationState:
        """The public view of an affiliation."""
        return cls(
            organisation_id=a.organisation_id, title=a.title, from_on=a.from_on, to_on=a.to_on
        )


class LeaderState(msgspec.Struct, frozen=True, kw_only=True):
    """A leader as they stand now, loaded from their own stream."""

    id: UUID
    version: int
    name: str
    email: str | None
    status: str
    affiliations: list[AffiliationState]
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, leader: Leader) -> LeaderState:
        """The public view of the aggregate."""
        return cls(
            id=leader.id,
            version=leader.version,
            name=leader.name,
            email=leader.email,
            status=leader.status,
            affiliations=[AffiliationState.of(a) for a in leader.affiliations],
            created_on=leader.created_on,
            modified_on=leader.modified_on,
        )


def admin_or_the_leader(principal: Principal, leader_id: UUID, command: str) -> None:
    """A leader keeps their own record; administrators keep everyone's."""
    policy.writer(principal)
    if principal.kind == ADMIN:
        return
    if principal.kind == LEADER and principal.leader_id == leader_id:
        return
    raise NotAllowed(f"only-admins-or-the-leader-can-{command}", principal.leader_id)


class LeaderController(Controller):
    """Leaders and their affiliations; a leader keeps their own record."""

    path = PATH
    tags = ("leaders",)

    @post_creation(
        operation_id="registerLeader",
        summary="Register a leader (admins)",
    )
    async def register(
        self, data: JSONBody[RegisterLeader], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Affiliations are recorded afterwards, each with its own dates."""
        policy.admin(call.principal, "register-leaders")
        leader_id, call = new_id(data, call)

        async def build() -> list[Leader]:
            return [Leader.register(leader_id, data.name, data.email)]

        return created(await commands.create(call, build), leader_id, PATH)

    @get(
        "/{leader_id:uuid}",
        operation_id="getLeader",
        summary="Get a leader's current state, with their affiliations",
        responses=READ_ERRORS,
    )
    async def get_leader(
        self, leader_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
    ) -> Response[LeaderState]:
        """Loaded from their own stream; the ETag is its version."""
        leader = await get_as_of(repository, Leader, leader_id, as_of)
        return state(LeaderState.of(leader), leader.version)  # type: ignore[return-value]

    @post_command(
        "/{leader_id:uuid}/affiliations",
        operation_id="recordAffiliation",
        summary="Record that the leader works with an organisation (admins, or the leader)",
    )
    async def record_affiliation(
        self,
        leader_id: FromPath[UUID],
        data: JSONBody[AffiliationStart],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The title is the leader's own description; it confers no rights."""
        admin_or_the_leader(call.principal, leader_id, "record-affiliations")
        if not data.title.strip():
            raise InvalidValue("title", "must not be blank")

        async def act(leader: Leader) -> None:
            org = await referenced(
                commands.repository, Organisation, data.organisation_id, "organisation_id"
            )
            leader.record_affiliation(org.id, data.title, data.from_on)

        return await updated(call, commands, Leader, leader_id, act)

    @post_command(
        "/{leader_id:uuid}/affiliation-endings",
        operation_id="endAffiliation",
        summary="Record that an affiliation ended (admins, or the leader)",
    )
    async def end_affiliation(
        self,
        leader_id: FromPath[UUID],
        data: JSONBody[AffiliationEnd],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The last day it held; not before it began."""
        admin_or_the_leader(call.principal, leader_id, "end-affiliations")
        act = lambda leader: leader.end_affiliation(data.organisation_id, data.to_on)  # noqa: E731
        return await updated(call, commands, Leader, leader_id, act)

    @post_command(
        "/{leader_id:uuid}/details-corrections",
        operation_id="correctLeaderDetails",
        summary="Correct the leader's name or email (admins, or the leader)",
    )
    async def correct_details(
        self,
        leader_id: FromPath[UUID],
        data: JSONBody[DetailsCorrection],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Something must change."""
        admin_or_the_leader(call.principal, leader_id, "correct-details")

        def act(leader: Leader) -> None:
            email = leader.email if data.email is msgspec.UNSET else data.email
            leader.correct_details(data.name, email)

        return await updated(call, commands, Leader, leader_id, act)

    @post_command(
        "/{leader_id:uuid}/deactivation",
        operation_id="deactivateLeader",
        summary="Deactivate a leader who no longer takes part (admins)",
    )
    async def deactivate(
        self,
        leader_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Their history stays; they can no longer change their record."""
        policy.admin(call.principal, "deactivate-leaders")
        act = lambda leader: leader.deactivate(data.reason)  # noqa: E731
        return await updated(call, commands, Leader, leader_id, act)
