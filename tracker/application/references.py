"""Aggregates a command refers to by id: an unknown one is the refusal of the field naming it."""

from __future__ import annotations

from datetime import date
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from tracker.application import policy
from tracker.application.errors import NotFound
from tracker.application.ports import Repository
from tracker.application.principal import Principal
from tracker.domain import (
    AffiliationSnapshot,
    Forum,
    InvalidValue,
    Leader,
    Meeting,
    Organisation,
    Purpose,
)
from tracker.domain.leader import ACTIVE

A = TypeVar("A", bound=Aggregate)
# What belongs to one forum and is cited from another's commands.
F = TypeVar("F", Purpose, Meeting)


def unknown(cls: type[Aggregate], aggregate_id: UUID, field: str) -> InvalidValue:
    """The one refusal of an id a command may not refer to, whether or not it exists."""
    return InvalidValue(field, f"no such {cls.__name__.lower()}: {aggregate_id}")


async def referenced(repository: Repository, cls: type[A], aggregate_id: UUID, field: str) -> A:
    """Read (never change) an aggregate a command refers to; an unknown id is that field's error."""
    try:
        return await repository.read(cls, aggregate_id)
    except NotFound:
        raise unknown(cls, aggregate_id, field) from None


async def visible_forum(
    repository: Repository, principal: Principal, forum_id: UUID, field: str
) -> Forum:
    """The forum a creation names; one the caller may not see is refused as an unknown id is.

    Forum ids are not secret, so a 403 here would confirm to an outsider that the forum exists.
    """
    forum = await referenced(repository, Forum, forum_id, field)
    if not policy.sees_forum(principal, forum.id, list(forum.members)):
        raise unknown(Forum, forum_id, field)
    return forum


async def forums_own(
    repository: Repository, cls: type[F], aggregate_id: UUID, field: str, forum_id: UUID
) -> F:
    """A purpose or meeting of this forum; another forum's is refused as an unknown id is, so
    a command never tells its caller what exists in forums they may not see."""
    found = await referenced(repository, cls, aggregate_id, field)
    if found.forum_id != forum_id:
        raise unknown(cls, aggregate_id, field)
    return found


async def exists(repository: Repository, cls: type[A], aggregate_id: UUID) -> bool:
    """Whether an aggregate of this kind has been recorded under this id."""
    try:
        await repository.read(cls, aggregate_id)
    except NotFound:
        return False
    return True


async def meeting_of(
    repository: Repository, meeting_id: UUID | None, forum: Forum
) -> Meeting | None:
    """The meeting named, if any; one that does not exist or is another forum's is refused
    alike."""
    if meeting_id is None:
        return None
    return await forums_own(repository, Meeting, meeting_id, "meeting_id", forum.id)


async def active_leader(repository: Repository, leader_id: UUID, field: str) -> Leader:
    """An existing leader who still takes part; anyone else is that field's error."""
    leader = await referenced(repository, Leader, leader_id, field)
    if leader.status != ACTIVE:
        raise InvalidValue(field, f"leader {leader_id} is {leader.status}")
    return leader


async def affiliation_on(
    repository: Repository, leader_id: UUID, day: date
) -> AffiliationSnapshot | None:
    """The leader's affiliation on a day, with its organisation's name; none if unknown."""
    try:
        leader = await repository.read(Leader, leader_id)
        affiliation = leader.affiliation_on(day)
        if affiliation is None:
            return None
        organisation = await repository.read(Organisation, affiliation.organisation_id)
    except NotFound:
        return None
    return affiliation.snapshot(organisation.name)
