"""Who may read what: the access decision of every read, so the API never makes one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from tracker.application import policy
from tracker.application.errors import NotFound
from tracker.application.ports import Repository
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal
from tracker.domain import Agreement, Commitment, Forum, Leader, Meeting, Purpose
from tracker.domain.agreement import FORUM
from tracker.domain.registry import STREAM_TYPES

A = TypeVar("A", bound=Aggregate)


class ForumMembers(Protocol):
    """The members of a forum as the read side knows them (none for an unknown forum)."""

    async def __call__(self, forum_id: UUID) -> Sequence[UUID]: ...


class StewardedWith(Protocol):
    """The forums one leader stewards and another belongs to, as the read side knows them."""

    async def __call__(self, steward_id: UUID, leader_id: UUID) -> Sequence[UUID]: ...


class Visibility(msgspec.Struct, frozen=True, kw_only=True):
    """The forums a caller may see: a member's forums, a list of forums, or (both None) all."""

    member: UUID | None = None
    forum_ids: tuple[UUID, ...] | None = None


def visible(principal: Principal) -> Visibility:
    """policy.sees_forum as a filter a query can apply to every forum at once."""
    if principal.kind in (AUDITOR, ADMIN):
        return Visibility()
    if principal.kind == INTEGRATION:
        return Visibility(forum_ids=principal.forum_ids)
    if principal.leader_id is None:
        return Visibility(forum_ids=())
    return Visibility(member=principal.leader_id)


async def require_forum_view(
    members: ForumMembers, principal: Principal, forum_id: UUID, unknown: NotFound
) -> None:
    """Refuse, as the unknown id it then is to the caller, a view of a forum they may not see."""
    if not policy.sees_forum(principal, forum_id, await members(forum_id)):
        raise unknown


async def require_view_of(
    repository: Repository,
    members: ForumMembers,
    principal: Principal,
    cls: type[Aggregate],
    resource_id: UUID,
) -> None:
    """Refuse, as unknown, a caller who may not see the views of the resource's forum now."""
    # Decided from the resource as it stands, so that a past view is refused before the replay
    # it would cost; an id that does not exist is NotFound.
    forum_id = await forum_of(repository, await repository.read(cls, resource_id))
    if forum_id is not None:
        unknown = NotFound(cls.__name__.lower(), resource_id)
        await require_forum_view(members, principal, forum_id, unknown)


def require_view(
    principal: Principal, forum_id: UUID, caller_is_member: bool, unknown: NotFound
) -> None:
    """Refuse a view whose own query said whether the caller belongs to its forum."""
    caller = viewing_leader(principal)
    if not policy.sees_forum(principal, forum_id, [caller] if caller and caller_is_member else []):
        raise unknown


def viewing_leader(principal: Principal) -> UUID | None:
    """The leader a view is read as, whose membership its query checks; None for the rest."""
    return principal.leader_id if principal.kind == LEADER else None


def require_log_reader(principal: Principal, rule: str) -> None:
    """Refuse the whole log, its seals and proofs to all but auditors and admins."""
    policy.log_reader(principal, rule)


async def readable(
    repository: Repository, principal: Principal, cls: type[A], resource_id: UUID
) -> A:
    """The resource as it stands, if the caller may read it; to anyone else it does not exist.

    Refused alike with NotFound, so that no caller learns which ids exist in others' forums.
    """
    resource = await repository.read(cls, resource_id)
    if principal.kind in (AUDITOR, ADMIN):
        return resource
    forum_id = await forum_of(repository, resource)
    if forum_id is not None and not await _sees(repository, principal, forum_id):
        raise NotFound(STREAM_TYPES[cls], resource_id)
    return resource


async def leader_email(
    repository: Repository, stewarded_with: StewardedWith, principal: Principal, leader: Leader
) -> str | None:
    """The leader's email if the caller may see it, else None.

    It is seen by the leader, auditors, admins and the stewards of a forum the leader belongs
    to now: the read side names the candidate forums, their aggregates confirm them.
    """
    if principal.kind in (AUDITOR, ADMIN):
        return leader.email
    me = viewing_leader(principal)
    if me is None:
        return None
    if me == leader.id:
        return leader.email
    for forum_id in await stewarded_with(me, leader.id):
        forum = await repository.read(Forum, forum_id)
        if forum.is_steward(me) and forum.is_member(leader.id):
            return leader.email
    return None


async def reachable(
    repository: Repository, principal: Principal, cls: type[A], resource_id: UUID
) -> None:
    """Refuse, as not found, a write to a resource in a forum the caller may not see: outside an
    integration's limit, or of a forum a leader is not a member of (unless they are a party to
    it, who keeps it after leaving), so that a write tells no more than a read does."""
    if principal.kind in (AUDITOR, ADMIN):
        return
    if principal.kind == INTEGRATION and principal.forum_ids is None:
        return
    resource = await repository.read(cls, resource_id)
    forum_id = await forum_of(repository, resource)
    if forum_id is None or _party(resource, principal.leader_id):
        return
    if not await _sees(repository, principal, forum_id):
        raise NotFound(STREAM_TYPES[cls], resource_id)


def _party(resource: Aggregate, leader_id: UUID | None) -> bool:
    """A commitment's owner or requester, or a purpose's endorser, keeps it after leaving."""
    match resource:
        case Commitment():
            return leader_id is not None and leader_id in (resource.owner_id, resource.requester_id)
        case Purpose():
            return leader_id in resource.endorsements
    return False


async def forum_of(repository: Repository, resource: Aggregate) -> UUID | None:
    """The forum a resource belongs to; None for leaders and organisations, which have none."""
    match resource:
        case Forum():
            return resource.id
        case Commitment() | Purpose() | Meeting():
            return resource.forum_id
        case Agreement() if resource.scope == FORUM:
            return resource.scope_id
        case Agreement():
            return (await repository.read(Purpose, resource.scope_id)).forum_id
    return None


async def _sees(repository: Repository, principal: Principal, forum_id: UUID) -> bool:
    """policy.sees_forum, reading the forum's current members only for a leader."""
    members: Sequence[UUID] = ()
    if principal.kind == LEADER:
        members = list((await repository.read(Forum, forum_id)).members)
    return policy.sees_forum(principal, forum_id, members)
