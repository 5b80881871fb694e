"""Leaders: people, with dated affiliations to organisations that carry no rights."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath, JSONBody

from projections.queries.stewardship import stewarded_with
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
from tracker.api.schemas import Command, Creation, Day, Email, Name, OptionalReason, Recorded
from tracker.api.time_travel import AsOfQuery
from tracker.application import bounds, leaders, reads
from tracker.application.bounds import latest
from tracker.audit.as_of import get_as_of
from tracker.domain import Affiliation, Leader

PATH = "/leaders"
GET_DESCRIPTION = f"""\
Any caller may read a leader. The `email` is shown only to the leader themself, to auditors
and admins, and to a steward of a forum the leader is a member of now; to everyone else it is
null, exactly as for a leader with no email. With `as_of`, the email of that time is shown by
the same rule, applied to the forums as they are now.

`affiliations` lists the latest {bounds.AFFILIATIONS} recorded, oldest first, and
`affiliations_total` counts them all (all of them: the leader's stream, for auditors and
admins).
"""


class RegisterLeader(Creation, frozen=True, kw_only=True):
    """Register a person who makes and receives commitments."""

    name: Name
    email: Email | None = None


class AffiliationStart(Command, frozen=True, kw_only=True):
    """An existing organisation the leader works with, their own title there, and since when.

    A leader may hold several roles with one organisation at once (a GP partner who is also
    clinical director); the same title twice over overlapping dates is refused, naming `title`.
    """

    organisation_id: UUID
    title: Name
    from_on: Day


class AffiliationEnd(Command, frozen=True, kw_only=True):
    """The organisation whose current affiliation ended, and on which day.

    With one current role there, `title` may be left out. With several, `title` names the one
    that ended (as the leader's state shows it; case does not matter); leaving it out is a 422
    naming `title`.
    """

    organisation_id: UUID
    to_on: Day
    title: Name | None = None


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
    affiliations_total: int
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, leader: Leader, email: str | None) -> LeaderState:
        """The public view of the aggregate, with the email the caller may see."""
        return cls(
            id=leader.id,
            version=leader.version,
            name=leader.name,
            email=email,
            status=leader.status,
            affiliations=[
                AffiliationState.of(a) for a in latest(leader.affiliations, bounds.AFFILIATIONS)
            ],
            affiliations_total=len(leader.affiliations),
            created_on=leader.created_on,
            modified_on=leader.modified_on,
        )


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
        leader_id, call = new_id(data, call)
        command = leaders.RegisterLeader(leader_id=leader_id, name=data.name, email=data.email)
        return created(await leaders.register(commands, call, command), leader_id, PATH)

    @get(
        "/{leader_id:uuid}",
        operation_id="getLeader",
        summary="Get a leader's current state, with their affiliations",
        description=GET_DESCRIPTION,
        responses=READ_ERRORS,
    )
    async def get_leader(
        self,
        leader_id: FromPath[UUID],
        repository: RepositoryDep,
        principal: PrincipalDep,
        as_of: AsOfQuery = None,
    ) -> Response[LeaderState]:
        """Loaded from their own stream; the ETag is its version."""
        leader = await get_as_of(repository, Leader, leader_id, as_of)

        async def forums(steward_id: UUID, leader_id: UUID) -> list[UUID]:
            return await stewarded_with(repository.store.pool, steward_id, leader_id)

        email = await reads.leader_email(repository, forums, principal, leader)
        return state(LeaderState.of(leader, email), leader.version)  # type: ignore[return-value]

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
        command = leaders.RecordAffiliation(
            leader_id=leader_id,
            organisation_id=data.organisation_id,
            title=data.title,
            from_on=data.from_on,
        )
        return recorded(await leaders.record_affiliation(commands, call, command), leader_id)

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
        """The last day it held; not before it began. The title picks one of several roles."""
        command = leaders.EndAffiliation(
            leader_id=leader_id,
            organisation_id=data.organisation_id,
            to_on=data.to_on,
            title=data.title,
        )
        return recorded(await leaders.end_affiliation(commands, call, command), leader_id)

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
        command = leaders.CorrectDetails(leader_id=leader_id, name=data.name, email=data.email)
        return recorded(await leaders.correct_details(commands, call, command), leader_id)

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
        command = leaders.DeactivateLeader(leader_id=leader_id, reason=data.reason)
        return recorded(await leaders.deactivate(commands, call, command), leader_id)
