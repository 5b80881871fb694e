"""Organisations: registered, renamed, succeeded by another and archived, by administrators."""

from __future__ import annotations

from uuid import UUID

import msgspec

from tracker.application import policy
from tracker.application.commands import Commands, Request
from tracker.application.ports import Repository, Saved
from tracker.application.references import referenced
from tracker.domain import InvalidValue, Organisation

# Longer chains than this are not real merger histories; stop walking rather than loop forever.
MAX_SUCCESSION = 100


class RegisterOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """Register an organisation leaders can be affiliated with."""

    organisation_id: UUID
    name: str
    kind: str


class RenameOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """Give an active organisation a new name."""

    organisation_id: UUID
    name: str


class RecordSuccessor(msgspec.Struct, frozen=True, kw_only=True):
    """The existing organisation that took over this one's work."""

    organisation_id: UUID
    successor_id: UUID


class ArchiveOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation that no longer takes part."""

    organisation_id: UUID
    reason: str = ""


async def register(app: Commands, call: Request, command: RegisterOrganisation) -> Saved:
    """A new organisation in its own stream."""
    policy.admin(call.principal, "register-organisations")

    async def build() -> list[Organisation]:
        return [Organisation.register(command.organisation_id, command.name, command.kind)]

    return await app.create(call, build)


async def rename(app: Commands, call: Request, command: RenameOrganisation) -> Saved:
    """The new name must differ from the current one."""
    policy.admin(call.principal, "rename-organisations")
    return await app.update(
        call, Organisation, command.organisation_id, lambda o: o.rename(command.name)
    )


async def record_successor(app: Commands, call: Request, command: RecordSuccessor) -> Saved:
    """Recorded once; refused if the successor's own successors already lead back here."""
    policy.admin(call.principal, "record-successors")

    async def act(organisation: Organisation) -> None:
        successor = await referenced(
            app.repository, Organisation, command.successor_id, "successor_id"
        )
        if await succession_would_loop(app.repository, organisation.id, successor):
            raise InvalidValue("successor_id", "its successors already lead back here")
        organisation.record_successor(successor.id)

    return await app.update(call, Organisation, command.organisation_id, act)


async def archive(app: Commands, call: Request, command: ArchiveOrganisation) -> Saved:
    """Its history stays; it can no longer be renamed."""
    policy.admin(call.principal, "archive-organisations")
    return await app.update(
        call, Organisation, command.organisation_id, lambda o: o.archive(command.reason)
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
