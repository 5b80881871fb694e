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
    recorded,
    state,
)
from tracker.api.schemas import Command, Creation, Name, OptionalReason, Recorded, Renaming
from tracker.api.time_travel import AsOfQuery
from tracker.application import organisations
from tracker.audit.as_of import get_as_of
from tracker.domain import Organisation

PATH = "/organisations"

Kind = Literal["council", "nhs", "police", "housing", "voluntary", "other"]


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
        organisation_id, call = new_id(data, call)
        command = organisations.RegisterOrganisation(
            organisation_id=organisation_id, name=data.name, kind=data.kind
        )
        return created(await organisations.register(commands, call, command), organisation_id, PATH)

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
        command = organisations.RenameOrganisation(organisation_id=organisation_id, name=data.name)
        return recorded(await organisations.rename(commands, call, command), organisation_id)

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
        command = organisations.RecordSuccessor(
            organisation_id=organisation_id, successor_id=data.successor_id
        )
        return recorded(
            await organisations.record_successor(commands, call, command), organisation_id
        )

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
        command = organisations.ArchiveOrganisation(
            organisation_id=organisation_id, reason=data.reason
        )
        return recorded(await organisations.archive(commands, call, command), organisation_id)
