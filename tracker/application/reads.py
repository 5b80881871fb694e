"""Who may read what: the access decision of every read, so the API never makes one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

import msgspec

from tracker.application import policy
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal


class ForumMembers(Protocol):
    """The members of a forum as the read side knows them (none for an unknown forum)."""

    async def __call__(self, forum_id: UUID) -> Sequence[UUID]: ...


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


async def require_forum_view(members: ForumMembers, principal: Principal, forum_id: UUID) -> None:
    """Refuse unless the caller may see this forum's views."""
    policy.viewer(principal, forum_id, await members(forum_id))


def require_view(principal: Principal, forum_id: UUID, caller_is_member: bool) -> None:
    """Refuse a view whose own query said whether the caller belongs to its forum."""
    caller = viewing_leader(principal)
    policy.viewer(principal, forum_id, [caller] if caller is not None and caller_is_member else [])


def viewing_leader(principal: Principal) -> UUID | None:
    """The leader a view is read as, whose membership its query checks; None for the rest."""
    return principal.leader_id if principal.kind == LEADER else None


def require_log_reader(principal: Principal, rule: str) -> None:
    """Refuse the whole log, its seals and proofs to all but auditors and admins."""
    policy.log_reader(principal, rule)
