"""Who may read the log and the history of a stream: the access decisions of the history reads."""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from tracker.application import policy
from tracker.application.errors import NotFound
from tracker.application.principal import ADMIN, AUDITOR, Principal
from tracker.domain import Agreement, Commitment, Forum, Meeting, NotAllowed, Purpose
from tracker.domain.agreement import FORUM

LOG_RULE = "only-auditors-and-admins-read-the-log"
STREAM_RULE = "only-auditors-and-admins-read-this-stream"

A = TypeVar("A", bound=Aggregate)


class Reader(Protocol):
    """The part of the repository these decisions need: aggregates' current state."""

    async def read(self, cls: type[A], aggregate_id: UUID, *, fresh: bool = False) -> A: ...


def check_log_reader(principal: Principal) -> None:
    """The global log is for auditors and admins."""
    if principal.kind not in (AUDITOR, ADMIN):
        raise NotAllowed(LOG_RULE, principal.leader_id)


async def check_stream_reader(
    repository: Reader, principal: Principal, stream_type: str, stream_id: UUID
) -> None:
    """Auditors and admins read any stream; others only streams of a forum they can see."""
    if principal.kind in (AUDITOR, ADMIN):
        return
    forum_id = await forum_of_stream(repository, stream_type, stream_id)
    if forum_id is None:
        raise NotAllowed(STREAM_RULE, principal.leader_id)
    if not await sees_forum(repository, principal, forum_id):
        # The answer to an unknown id: a refusal would confirm that the stream exists.
        raise NotFound("stream", stream_id)


async def check_history_reader(
    repository: Reader, principal: Principal, commitment_id: UUID
) -> None:
    """Only those who see the commitment's forum read its history; to others it is unknown."""
    commitment = await repository.read(Commitment, commitment_id)
    if not await sees_forum(repository, principal, commitment.forum_id):
        raise NotFound("commitment", commitment_id)


async def sees_forum(repository: Reader, principal: Principal, forum_id: UUID) -> bool:
    """policy.sees_forum over the forum's members as they are now."""
    forum = await repository.read(Forum, forum_id)
    return policy.sees_forum(principal, forum.id, list(forum.members))


async def forum_of_stream(repository: Reader, stream_type: str, stream_id: UUID) -> UUID | None:
    """The forum a stream belongs to, from its aggregate; None for leaders, organisations."""
    match stream_type:
        case "forum":
            return stream_id
        case "commitment":
            return (await repository.read(Commitment, stream_id)).forum_id
        case "purpose":
            return (await repository.read(Purpose, stream_id)).forum_id
        case "meeting":
            return (await repository.read(Meeting, stream_id)).forum_id
        case "agreement":
            agreement = await repository.read(Agreement, stream_id)
            if agreement.scope == FORUM:
                return agreement.scope_id
            return (await repository.read(Purpose, agreement.scope_id)).forum_id
    return None
