"""Making a commitment: the forum's members and purposes decide who may make one, and for whom."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from tracker.application import policy
from tracker.application.clock import Now, today_in
from tracker.application.commands import Commands, Request
from tracker.application.ports import Repository, Saved
from tracker.application.principal import Principal
from tracker.application.references import forums_own, meeting_of, visible_forum
from tracker.domain import Commitment, Forum, InvalidValue, Purpose


class MakeCommitment(msgspec.Struct, frozen=True, kw_only=True):
    """Make a commitment (the caller is its owner) or record one for another member."""

    commitment_id: UUID
    forum_id: UUID
    owner_id: UUID
    description: str
    purpose_ids: tuple[UUID, ...]
    due_on: date | None = None
    meeting_id: UUID | None = None


class Minuted(msgspec.Struct, frozen=True, kw_only=True):
    """What minutes add to a commitment: who attended, who recorded it, and who asked."""

    attended: frozenset[UUID]
    recorded_by: str
    requester_id: UUID | None = None


async def make(app: Commands, call: Request, command: MakeCommitment) -> Saved:
    """Make (or record) a commitment in its own new stream."""

    async def build() -> list[Commitment]:
        return [await new_commitment(app.repository, app.now, call.principal, command)]

    return await app.create(call, build)


async def new_commitment(
    repository: Repository, now: Now, principal: Principal, command: MakeCommitment
) -> Commitment:
    """Check the references and relationships, then make the commitment (in memory only)."""
    forum = await visible_forum(repository, principal, command.forum_id, "forum_id")
    by = policy.member(principal, forum, "make-commitments")
    retired = await _checked(repository, forum, command)
    requester = by if by != command.owner_id else None
    if by is None:  # a recorder writes down what a named leader asked for, if anyone
        requester = principal.on_behalf_of
    return Commitment.make(
        command.commitment_id,
        forum_id=forum.id,
        owner_id=command.owner_id,
        by=by,
        description=command.description,
        purpose_ids=list(command.purpose_ids),
        made_on=today_in(now, forum.timezone),
        due_on=command.due_on,
        requester_id=requester if requester != command.owner_id else None,
        meeting_id=command.meeting_id,
        retired_purpose_ids=retired,
    )


async def minuted_commitment(
    repository: Repository,
    now: Now,
    forum: Forum,
    command: MakeCommitment,
    minutes: Minuted,
) -> Commitment:
    """A commitment in a meeting's minutes, checked as one made alone (in memory only)."""
    assert command.meeting_id is not None
    retired = await _checked(repository, forum, command)
    return Commitment.minute(
        command.commitment_id,
        meeting_id=command.meeting_id,
        attended=minutes.attended,
        recorded_by=minutes.recorded_by,
        owner_id=command.owner_id,
        requester_id=minutes.requester_id,
        forum_id=forum.id,
        description=command.description,
        purpose_ids=list(command.purpose_ids),
        made_on=today_in(now, forum.timezone),
        due_on=command.due_on,
        retired_purpose_ids=retired,
    )


async def _checked(repository: Repository, forum: Forum, command: MakeCommitment) -> list[UUID]:
    """The owner must be a member; the purposes and meeting the forum's own; returns the
    retired purposes."""
    if not forum.is_member(command.owner_id):
        raise InvalidValue("owner_id", "the owner must be a member of the forum")
    await meeting_of(repository, command.meeting_id, forum)
    return await _retired_purposes(repository, forum, command.purpose_ids)


async def _retired_purposes(
    repository: Repository, forum: Forum, purpose_ids: tuple[UUID, ...]
) -> list[UUID]:
    """The cited purposes that are retired; each must exist and be the forum's own."""
    retired = []
    for purpose_id in purpose_ids:
        purpose = await forums_own(repository, Purpose, purpose_id, "purpose_ids", forum.id)
        if purpose.is_retired:
            retired.append(purpose_id)
    return retired
