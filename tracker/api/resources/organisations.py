"""Organisations: registered, renamed, succeeded by another (bodies merge) and archived."""

from __future__ import annotations

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
    new_id,
    post_command,
    post_creation,
    referenced,
    state,
    updated,
)
from tracker.api.schemas import Command, Creation, Name, OptionalReason, Recorded, Renaming
from tracker.api.time_travel import AsOfQuery
from tracker.application import policy
from tracker.application.ports import Repository
from tracker.audit.as_of import get_as_of
from tracker.domain import InvalidValue, Organisation

PATH = "/organisations"

Kind = Literal["council", "nhs", "police", "housing", "voluntary", "other"]

# Longer chains than this are not real merger histories; stop walking rather than loop forever.
MAX_SUCCESSION = 100


class RegisterOrganisation(Creation, frozen=True, kw_only=True):
    """Register an organisation leaders can be affiliated with."""

    name: Name
    kind: Kind


class Succession(Command, frozen=True, kw_only=True):
    """The existing organisation that took over this one's work."""

    successor_id: UUID


class OrganisationState(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as it stands now, loaded from its own stream."""

    id: UUID
    version: int
    name: str
    kind: str
    status: str
    successor_id: UUID | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, o: Organisation) -> OrganisationState:
        """The public view of the aggregate."""
        return cls(
            id=o.id,
            version=o.version,
            name=o.name,
            kind=o.kind,
            status=o.status,
            successor_id=o.successor_id,
            created_on=o.created_on,
            modified_on=o.modified_on,
        )


async def succession_would_loop(
    repository: Repository, organisation_id: UUID, successor: Organisation
) -> bool:
    """Whether the successor's own line of successors already leads back to the organisation."""
    current: Organisation | None = successor
    for _ in range(MAX_SUCCESSION):
        if current is None or current.successor_id is None:
            return False
        if current.successor_id == organisation_id:
            return True
        current = await repository.read(Organisation, current.successor_id)
    return True


class OrganisationController(Controller):
    """Organisations; only administrators change them."""

    path = PATH
    tags = ("organisations",)

    @post_creation(
        operation_id="registerOrganisation",
        summary="Register an organisation (admins)",
    )
    async def register(
        self, data: JSONBody[RegisterOrganisation], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """A council, NHS body, police force, housing provider, voluntary group or other body."""
        policy.admin(call.principal, "register-organisations")
        organisation_id, call = new_id(data, call)

        async def build() -> list[Organisation]:
            return [Organisation.register(organisation_id, data.name, data.kind)]

        return created(await commands.create(call, build), organisation_id, PATH)

    @get(
        "/{organisation_id:uuid}",
        operation_id="getOrganisation",
        summary="Get an organisation's current state",
        responses=READ_ERRORS,
    )
    async def get_organisation(
        self, organisation_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
    ) -> Response[OrganisationState]:
        """Loaded from its own stream; the ETag is its version."""
        organisation = await get_as_of(repository, Organisation, organisation_id, as_of)
        return state(OrganisationState.of(organisation), organisation.version)  # type: ignore[return-value]

    @post_command(
        "/{organisation_id:uuid}/renaming",
        operation_id="renameOrganisation",
        summary="Rename an active organisation (admins)",
    )
    async def rename(
        self,
        organisation_id: FromPath[UUID],
        data: JSONBody[Renaming],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The new name must differ from the current one."""
        policy.admin(call.principal, "rename-organisations")
        return await updated(
            call, commands, Organisation, organisation_id, lambda o: o.rename(data.name)
        )

    @post_command(
        "/{organisation_id:uuid}/successor",
        operation_id="recordOrganisationSuccessor",
        summary="Record the organisation that took over this one (admins)",
    )
    async def record_successor(
        self,
        organisation_id: FromPath[UUID],
        data: JSONBody[Succession],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Allowed after archiving too, as mergers are often recorded late; recorded once."""
        policy.admin(call.principal, "record-successors")
        repository = commands.repository

        async def act(o: Organisation) -> None:
            successor = await referenced(
                repository, Organisation, data.successor_id, "successor_id"
            )
            if await succession_would_loop(repository, o.id, successor):
                raise InvalidValue("successor_id", "its successors already lead back here")
            o.record_successor(successor.id)

        return await updated(call, commands, Organisation, organisation_id, act)

    @post_command(
        "/{organisation_id:uuid}/archival",
        operation_id="archiveOrganisation",
        summary="Archive an organisation that no longer takes part (admins)",
    )
    async def archive(
        self,
        organisation_id: FromPath[UUID],
        data: JSONBody[OptionalReason],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Its history stays; it can no longer be renamed."""
        policy.admin(call.principal, "archive-organisations")
        return await updated(
            call, commands, Organisation, organisation_id, lambda o: o.archive(data.reason)
        )
