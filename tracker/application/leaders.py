"""Leaders: registered by administrators; a leader keeps their own record and affiliations."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from tracker.application import policy
from tracker.application.commands import Commands, Request
from tracker.application.ports import Saved
from tracker.application.references import referenced
from tracker.domain import InvalidValue, Leader, Organisation


class RegisterLeader(msgspec.Struct, frozen=True, kw_only=True):
    """Register a person who makes and receives commitments."""

    leader_id: UUID
    name: str
    email: str | None = None


class RecordAffiliation(msgspec.Struct, frozen=True, kw_only=True):
    """An existing organisation the leader works with, their own title there, and since when."""

    leader_id: UUID
    organisation_id: UUID
    title: str
    from_on: date


class EndAffiliation(msgspec.Struct, frozen=True, kw_only=True):
    """The organisation (and, with several current roles there, the title) whose affiliation
    ended, and on which day."""

    leader_id: UUID
    organisation_id: UUID
    to_on: date
    title: str | None = None


class CorrectDetails(msgspec.Struct, frozen=True, kw_only=True):
    """The corrected name and, optionally, email: None clears it, UNSET keeps it."""

    leader_id: UUID
    name: str
    email: str | msgspec.UnsetType | None = msgspec.UNSET


class DeactivateLeader(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who no longer takes part."""

    leader_id: UUID
    reason: str = ""


async def register(app: Commands, call: Request, command: RegisterLeader) -> Saved:
    """Affiliations are recorded afterwards, each with its own dates."""
    policy.admin(call.principal, "register-leaders")

    async def build() -> list[Leader]:
        return [Leader.register(command.leader_id, command.name, command.email)]

    return await app.create(call, build)


async def record_affiliation(app: Commands, call: Request, command: RecordAffiliation) -> Saved:
    """The title is the leader's own description; it confers no rights."""
    policy.admin_or_the_leader(call.principal, command.leader_id, "record-affiliations")
    if not command.title.strip():
        raise InvalidValue("title", "must not be blank")

    async def act(leader: Leader) -> None:
        organisation = await referenced(
            app.repository, Organisation, command.organisation_id, "organisation_id"
        )
        leader.record_affiliation(organisation.id, command.title, command.from_on)

    return await app.update(call, Leader, command.leader_id, act)


async def end_affiliation(app: Commands, call: Request, command: EndAffiliation) -> Saved:
    """The last day it held; not before it began."""
    policy.admin_or_the_leader(call.principal, command.leader_id, "end-affiliations")
    return await app.update(
        call,
        Leader,
        command.leader_id,
        lambda leader: leader.end_affiliation(
            command.organisation_id, command.to_on, command.title
        ),
    )


async def correct_details(app: Commands, call: Request, command: CorrectDetails) -> Saved:
    """Something must change."""
    policy.admin_or_the_leader(call.principal, command.leader_id, "correct-details")

    def act(leader: Leader) -> None:
        email = leader.email if command.email is msgspec.UNSET else command.email
        leader.correct_details(command.name, email)

    return await app.update(call, Leader, command.leader_id, act)


async def deactivate(app: Commands, call: Request, command: DeactivateLeader) -> Saved:
    """Their history stays; they can no longer change their record."""
    policy.admin(call.principal, "deactivate-leaders")
    return await app.update(
        call, Leader, command.leader_id, lambda leader: leader.deactivate(command.reason)
    )
