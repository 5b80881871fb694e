"""Forums: convened by administrators, then members join and leave and stewards take on roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from tracker.application import policy, reads
from tracker.application.commands import Commands, Request
from tracker.application.ports import Saved
from tracker.application.references import active_leader
from tracker.domain import Forum, InvalidValue
from tracker.domain.forum import CONVENOR


class ConveneForum(msgspec.Struct, frozen=True, kw_only=True):
    """Convene a forum; its convenor, an existing leader, is its first member and steward."""

    forum_id: UUID
    name: str
    convenor_id: UUID
    timezone: str


class RenameForum(msgspec.Struct, frozen=True, kw_only=True):
    """The forum's new name."""

    forum_id: UUID
    name: str


class Membership(msgspec.Struct, frozen=True, kw_only=True):
    """The leader who joins or leaves a forum."""

    forum_id: UUID
    leader_id: UUID


class Stewardship(msgspec.Struct, frozen=True, kw_only=True):
    """The member who takes on or gives up a steward role, and the role."""

    forum_id: UUID
    leader_id: UUID
    role: str


def require_timezone(timezone: str) -> None:
    """Refuse anything that is not an IANA time zone the server knows."""
    try:
        ZoneInfo(timezone)
    except (KeyError, ValueError, OSError):
        raise InvalidValue("timezone", "must be an IANA time zone, such as Europe/London") from None


async def convene(app: Commands, call: Request, command: ConveneForum) -> Saved:
    """Dates in the forum are its own local dates, in its time zone."""
    policy.admin(call.principal, "convene-forums")
    require_timezone(command.timezone)

    async def build() -> list[Forum]:
        convenor = await active_leader(app.repository, command.convenor_id, "convenor_id")
        return [Forum.convene(command.forum_id, command.name, convenor.id, command.timezone)]

    return await app.create(call, build)


async def rename(app: Commands, call: Request, command: RenameForum) -> Saved:
    """Admins, or a convenor; the new name must differ from the current one."""

    def act(forum: Forum) -> None:
        policy.runs_forum(
            call.principal, forum, "only-admins-or-convenors-can-rename-forums", role=CONVENOR
        )
        forum.rename(command.name)

    return await _change(app, call, command.forum_id, act)


async def admit(app: Commands, call: Request, command: Membership) -> Saved:
    """Admins, or a steward; the leader must still take part."""

    async def act(forum: Forum) -> None:
        policy.runs_forum(call.principal, forum, "only-admins-or-stewards-can-admit-members")
        leader = await active_leader(app.repository, command.leader_id, "leader_id")
        forum.join(leader.id)

    return await _change(app, call, command.forum_id, act)


async def depart(app: Commands, call: Request, command: Membership) -> Saved:
    """Admins, a steward, or the member; a steward stands down from every role first."""

    def act(forum: Forum) -> None:
        rule = "only-admins-stewards-or-the-member-can-record-departures"
        policy.runs_forum(call.principal, forum, rule, or_leader=command.leader_id)
        forum.leave(command.leader_id)

    return await _change(app, call, command.forum_id, act)


async def appoint(app: Commands, call: Request, command: Stewardship) -> Saved:
    """Admins, or a convenor: convenors convene the forum, recorders keep its record."""

    def act(forum: Forum) -> None:
        rule = "only-admins-or-convenors-can-appoint-stewards"
        policy.runs_forum(call.principal, forum, rule, role=CONVENOR)
        forum.appoint_steward(command.leader_id, command.role)

    return await _change(app, call, command.forum_id, act)


async def stand_down(app: Commands, call: Request, command: Stewardship) -> Saved:
    """Admins, a convenor, or the steward; the forum always keeps at least one convenor."""

    def act(forum: Forum) -> None:
        rule = "only-admins-convenors-or-the-steward-can-record-stand-downs"
        policy.runs_forum(call.principal, forum, rule, role=CONVENOR, or_leader=command.leader_id)
        forum.stand_down_steward(command.leader_id, command.role)

    return await _change(app, call, command.forum_id, act)


async def _change(
    app: Commands, call: Request, forum_id: UUID, act: Callable[[Forum], Awaitable[None] | None]
) -> Saved:
    """Change a forum; to an integration limited to other forums, it does not exist."""
    await reads.reachable(app.repository, call.principal, Forum, forum_id)
    return await app.update(call, Forum, forum_id, act)
