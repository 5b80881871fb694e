"""Forums: convened by a leader, then members join and leave and stewards take on roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
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
from tracker.api.schemas import Command, Creation, Name, Recorded, Renaming
from tracker.api.time_travel import AsOfQuery, read_as_of
from tracker.application import bounds, forums
from tracker.domain import Forum
from tracker.domain.forum import DEFAULT_TIMEZONE

PATH = "/forums"

Timezone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
Role = Literal["convenor", "recorder"]


class ConveneForum(Creation, frozen=True, kw_only=True):
    """Convene a forum; its convenor, an existing leader, is its first member and steward."""

    name: Name
    convenor_id: UUID
    timezone: Timezone = DEFAULT_TIMEZONE


class Membership(Command, frozen=True, kw_only=True):
    """The leader who joins or leaves."""

    leader_id: UUID


class Stewardship(Command, frozen=True, kw_only=True):
    """The member who takes on or gives up a steward role, and the role."""

    leader_id: UUID
    role: Role


class StewardState(msgspec.Struct, frozen=True, kw_only=True):
    """A steward and the roles they hold."""

    leader_id: UUID
    roles: list[str]


class ForumState(msgspec.Struct, frozen=True, kw_only=True):
    """A forum as it stands now, loaded from its own stream."""

    id: UUID
    version: int
    name: str
    timezone: str
    members: list[UUID]
    members_total: int
    stewards: list[StewardState]
    stewards_total: int
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, f: Forum) -> ForumState:
        """The public view of the aggregate, in a stable order."""
        return cls(
            id=f.id,
            version=f.version,
            name=f.name,
            timezone=f.timezone,
            members=sorted(f.members)[: bounds.MEMBERS],
            members_total=len(f.members),
            stewards=[
                StewardState(leader_id=leader, roles=sorted(roles))
                for leader, roles in sorted(f.stewards.items())[: bounds.MEMBERS]
            ],
            stewards_total=len(f.stewards),
            created_on=f.created_on,
            modified_on=f.modified_on,
        )


class ForumController(Controller):
    """Forums, their members and stewards; stewards run their forum's business."""

    path = PATH
    tags = ("forums",)

    @post_creation(
        operation_id="conveneForum",
        summary="Convene a forum with its first convenor (admins)",
    )
    async def convene(
        self, data: JSONBody[ConveneForum], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """Dates in the forum are its own local dates, in its time zone."""
        forum_id, call = new_id(data, call)
        command = forums.ConveneForum(
            forum_id=forum_id, name=data.name, convenor_id=data.convenor_id, timezone=data.timezone
        )
        return created(await forums.convene(commands, call, command), forum_id, PATH)

    @get(
        "/{forum_id:uuid}",
        operation_id="getForum",
        summary="Get a forum's current state: members and stewards",
        description=(
            f"`members` and `stewards` list at most {bounds.MEMBERS} leaders each, by leader "
            "id; `members_total` and `stewards_total` count them in full (all of them: the "
            "forum's stream, `/streams/{forum_id}/events`)."
        ),
        responses=READ_ERRORS,
    )
    async def get_forum(
        self,
        forum_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        as_of: AsOfQuery = None,
    ) -> Response[ForumState]:
        """Loaded from its own stream; the ETag is its version."""
        forum = await read_as_of(repository, principal, Forum, forum_id, as_of)
        return state(ForumState.of(forum), forum.version)  # type: ignore[return-value]

    @post_command(
        "/{forum_id:uuid}/renaming",
        operation_id="renameForum",
        summary="Rename the forum (admins, or a convenor)",
    )
    async def rename(
        self, forum_id: FromPath[UUID], data: JSONBody[Renaming], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """The new name must differ from the current one."""
        command = forums.RenameForum(forum_id=forum_id, name=data.name)
        return recorded(await forums.rename(commands, call, command), forum_id)

    @post_command(
        "/{forum_id:uuid}/members",
        operation_id="admitForumMember",
        summary="Admit an existing leader as a member (admins, or a steward)",
    )
    async def admit(
        self,
        forum_id: FromPath[UUID],
        data: JSONBody[Membership],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The leader must still take part."""
        command = forums.Membership(forum_id=forum_id, leader_id=data.leader_id)
        return recorded(await forums.admit(commands, call, command), forum_id)

    @post_command(
        "/{forum_id:uuid}/member-departures",
        operation_id="recordMemberDeparture",
        summary="Record that a member left (admins, a steward, or the member)",
    )
    async def depart(
        self,
        forum_id: FromPath[UUID],
        data: JSONBody[Membership],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """A steward stands down from every role before leaving."""
        command = forums.Membership(forum_id=forum_id, leader_id=data.leader_id)
        return recorded(await forums.depart(commands, call, command), forum_id)

    @post_command(
        "/{forum_id:uuid}/stewards",
        operation_id="appointSteward",
        summary="Give a member a steward role (admins, or a convenor)",
    )
    async def appoint(
        self,
        forum_id: FromPath[UUID],
        data: JSONBody[Stewardship],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Convenors convene the forum; recorders keep its record."""
        command = forums.Stewardship(forum_id=forum_id, leader_id=data.leader_id, role=data.role)
        return recorded(await forums.appoint(commands, call, command), forum_id)

    @post_command(
        "/{forum_id:uuid}/steward-departures",
        operation_id="recordStewardDeparture",
        summary="Record that a steward gave up a role (admins, a convenor, or the steward)",
    )
    async def stand_down(
        self,
        forum_id: FromPath[UUID],
        data: JSONBody[Stewardship],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The forum always keeps at least one convenor."""
        command = forums.Stewardship(forum_id=forum_id, leader_id=data.leader_id, role=data.role)
        return recorded(await forums.stand_down(commands, call, command), forum_id)
