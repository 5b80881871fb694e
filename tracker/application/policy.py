"""Who may do what: rights come from relationships (owner, requester, steward), never titles."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal
from tracker.domain import Forum, InvalidValue, NotAllowed

# An integration limited to some forums writes in those alone, as it reads only those.
LIMIT_RULE = "integrations-write-only-in-their-forums"
COMMENT_RULE = "only-parties-members-or-stewards-can-comment"


def writer(principal: Principal) -> None:
    """Auditors read everything and write nothing."""
    if principal.kind == AUDITOR:
        raise NotAllowed("auditors-only-read")


def admin(principal: Principal, command: str) -> None:
    """Registering organisations, leaders and forums is for administrators."""
    if principal.kind != ADMIN:
        raise NotAllowed(f"only-admins-can-{command}")


def leader(principal: Principal, command: str) -> UUID:
    """Commands a person must make for themselves: the leader a leader token acts as."""
    writer(principal)
    if principal.kind != LEADER or principal.leader_id is None:
        raise NotAllowed(f"only-the-leader-themselves-can-{command}")
    return principal.leader_id


def admin_or_the_leader(principal: Principal, leader_id: UUID, command: str) -> None:
    """A leader keeps their own record; administrators keep everyone's."""
    writer(principal)
    if principal.kind == ADMIN:
        return
    if principal.kind == LEADER and principal.leader_id == leader_id:
        return
    raise NotAllowed(f"only-admins-or-the-leader-can-{command}", principal.leader_id)


def party(principal: Principal, command: str) -> UUID | None:
    """A leader acts as themselves; a recorder (an integration) acts as nobody's promise."""
    writer(principal)
    if principal.kind == LEADER:
        return principal.leader_id
    if principal.kind == INTEGRATION:
        return None
    raise NotAllowed(f"only-leaders-or-recorders-can-{command}")


def member(principal: Principal, forum: Forum, command: str) -> UUID | None:
    """A leader must belong to the forum; recorders and admins record for it."""
    in_forum(principal, forum, command)
    by = party(principal, command) if principal.kind != ADMIN else None
    if by is not None and not forum.is_member(by):
        raise NotAllowed(f"only-forum-members-can-{command}", by)
    return by


def acting_member(principal: Principal, forum: Forum, command: str) -> UUID:
    """The member leader a command is by: the caller, or the one an integration names."""
    by = member(principal, forum, command) or principal.on_behalf_of
    if by is None and principal.kind == INTEGRATION:
        raise InvalidValue("On-Behalf-Of", "an integration names the member leader it acts for")
    if by is None or not forum.is_member(by):
        raise NotAllowed(f"only-forum-members-can-{command}", by)
    return by


def steward(principal: Principal, forum: Forum, command: str, role: str | None = None) -> None:
    """Stewards (and administrators, and recorders for record-keeping) run a forum's business."""
    in_forum(principal, forum, command)
    if principal.kind in (ADMIN, INTEGRATION):
        return
    if principal.leader_id is None or not forum.is_steward(principal.leader_id, role):
        raise NotAllowed(f"only-stewards-can-{command}", principal.leader_id)


def runs_forum(
    principal: Principal,
    forum: Forum,
    rule: str,
    *,
    role: str | None = None,
    or_leader: UUID | None = None,
) -> None:
    """Admins, stewards (holding the role, if named) and, where given, the leader concerned."""
    writer(principal)
    if principal.kind == ADMIN:
        return
    me = principal.leader_id
    if me is not None and (forum.is_steward(me, role) or me == or_leader):
        return
    raise NotAllowed(rule, me)


def in_limit(principal: Principal, forum_id: UUID) -> bool:
    """Whether the forum is within the caller's forum limit; only integrations may have one."""
    limit = principal.forum_ids
    return principal.kind != INTEGRATION or limit is None or forum_id in limit


def in_forum(principal: Principal, forum: Forum, command: str) -> None:
    """Every write in a forum: not by an auditor, within an integration's forum limit, and
    on behalf of (if anyone) a leader who is a member of the forum now."""
    writer(principal)
    if not in_limit(principal, forum.id):
        raise NotAllowed(LIMIT_RULE)
    acted_for = principal.on_behalf_of
    if acted_for is not None and not forum.is_member(acted_for):
        raise NotAllowed(f"only-forum-members-can-{command}", acted_for)


def may_comment(by: UUID, forum: Forum, parties: Collection[UUID | None]) -> None:
    """A commenter is a party to the commitment (owner, requester), a member or a steward."""
    if by in parties or forum.is_member(by) or forum.is_steward(by):
        return
    raise NotAllowed(COMMENT_RULE, by)


def is_steward(principal: Principal, forum: Forum) -> bool:
    """Whether a leader principal is one of the forum's stewards."""
    return principal.leader_id is not None and forum.is_steward(principal.leader_id)


def sees_forum(principal: Principal, forum_id: UUID, members: Sequence[UUID]) -> bool:
    """Leaders see views of forums they belong to; auditors and admins see all; integrations
    see the forums their token is limited to (all, if it is not limited)."""
    if principal.kind in (AUDITOR, ADMIN):
        return True
    if principal.kind == INTEGRATION:
        return principal.forum_ids is None or forum_id in principal.forum_ids
    return principal.leader_id is not None and principal.leader_id in members


def commenter(principal: Principal) -> UUID:
    """Leaders comment as themselves; a recorder comments on behalf of a named leader."""
    by = principal.leader_id or principal.on_behalf_of
    writer(principal)
    if principal.kind not in (LEADER, INTEGRATION):
        # An admin speaks for no leader and cannot name one, so no body would help.
        raise NotAllowed("only-leaders-or-recorders-can-comment")
    if by is None:
        raise InvalidValue("On-Behalf-Of", "a recorder names the leader it comments for")
    return by


def log_reader(principal: Principal, rule: str) -> None:
    """The whole log, its seals and its proofs are for auditors and admins."""
    if principal.kind not in (AUDITOR, ADMIN):
        raise NotAllowed(rule, principal.leader_id)
