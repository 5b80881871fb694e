"""Who may manage a subscription, and which events it carries: exactly those its creator could
read through the API (a stream of a forum they see; the whole log for auditors and admins)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from tracker.application.audit import Reader, forum_of_stream, sees_forum
from tracker.application.errors import NotFound
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal
from tracker.domain import Agreement, Commitment, InvalidValue, NotAllowed
from tracker.domain.agreement import FORUM


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    """Which of the readable events a subscription wants; every part left out means all."""

    types: tuple[str, ...] | None = None
    forum_ids: tuple[UUID, ...] | None = None
    purpose_ids: tuple[UUID, ...] | None = None
    leader_id: UUID | None = None


def owner(principal: Principal) -> str:
    """Whose a subscription is: a leader's, whichever of their tokens made it; else the token's."""
    if principal.kind == LEADER and principal.leader_id is not None:
        return f"leader:{principal.leader_id}"
    return f"token:{principal.token_id}"


def require_owner(principal: Principal, subscription_id: UUID, owned_by: str) -> None:
    """Admins manage every subscription; others only their own, and others' do not exist."""
    if principal.kind != ADMIN and owner(principal) != owned_by:
        raise NotFound("subscription", subscription_id)


def limited(principal: Principal, only: Filter) -> Filter:
    """The filter within the creator's forum limit: an integration limited to some forums
    cannot subscribe to others, and subscribes to its own forums when it names none."""
    if principal.kind != INTEGRATION or principal.forum_ids is None:
        return only
    if only.forum_ids is None:
        return msgspec.structs.replace(only, forum_ids=principal.forum_ids)
    outside = [f for f in only.forum_ids if f not in principal.forum_ids]
    if outside:
        raise NotAllowed("integrations-subscribe-only-to-their-forums")
    return only


async def receives(
    reader: Reader,
    principal: Principal,
    only: Filter,
    stream_type: str,
    stream_id: UUID,
    event_type: str,
    people: Sequence[str | None],
) -> bool:
    """Whether the subscription carries this event: readable by its creator, and selected.

    `people` are the event's actor and on_behalf_of, which a leader filter also matches.
    """
    if only.types is not None and event_type not in only.types:
        return False
    sees_all = principal.kind in (AUDITOR, ADMIN)
    if not sees_all or only.forum_ids is not None:
        # Auditors and admins read every stream: only a forum filter needs the stream's forum.
        forum_id = await forum_of_stream(reader, stream_type, stream_id)
        if not sees_all and (forum_id is None or not await sees_forum(reader, principal, forum_id)):
            return False
        if only.forum_ids is not None and forum_id not in only.forum_ids:
            return False
    if only.purpose_ids is not None and not await _about_purposes(
        reader, only.purpose_ids, stream_type, stream_id
    ):
        return False
    if only.leader_id is not None:
        return await _about_leader(reader, only.leader_id, stream_type, stream_id, people)
    return True


async def _about_purposes(
    reader: Reader, purpose_ids: Sequence[UUID], stream_type: str, stream_id: UUID
) -> bool:
    """A purpose's own events, its commitments' and its agreements'."""
    match stream_type:
        case "purpose":
            return stream_id in purpose_ids
        case "commitment":
            commitment = await reader.read(Commitment, stream_id)
            return bool(set(commitment.purpose_ids) & set(purpose_ids))
        case "agreement":
            agreement = await reader.read(Agreement, stream_id)
            return agreement.scope != FORUM and agreement.scope_id in purpose_ids
    return False


async def _about_leader(
    reader: Reader,
    leader_id: UUID,
    stream_type: str,
    stream_id: UUID,
    people: Sequence[str | None],
) -> bool:
    """Events by or for the leader, of their own stream, and of commitments they are party to."""
    if f"leader:{leader_id}" in people or stream_id == leader_id:
        return True
    if stream_type == "commitment":
        commitment = await reader.read(Commitment, stream_id)
        return leader_id in (commitment.owner_id, commitment.requester_id)
    return False


def require_filter_lengths(only: Filter) -> None:
    """Refuse an empty list: it would select nothing, which no subscriber means."""
    for name in ("types", "forum_ids", "purpose_ids"):
        value = getattr(only, name)
        if value is not None and not value:
            raise InvalidValue(name, "leave it out to mean all; an empty list selects nothing")
