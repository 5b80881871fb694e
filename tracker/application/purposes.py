"""Purposes: proposed and revised by members, endorsed by each member, adopted by stewards."""

from __future__ import annotations

from uuid import UUID

import msgspec

from tracker.application import policy, reads
from tracker.application.clock import today_in
from tracker.application.commands import Commands, Request
from tracker.application.decisions import DecisionBasis, decision
from tracker.application.ports import Saved
from tracker.application.references import affiliation_on, meeting_of, visible_forum
from tracker.domain import Forum, NotAllowed, Purpose


class ProposePurpose(msgspec.Struct, frozen=True, kw_only=True):
    """Propose a purpose to a forum."""

    purpose_id: UUID
    forum_id: UUID
    statement: str


class RevisePurpose(msgspec.Struct, frozen=True, kw_only=True):
    """A new statement, and why it changed."""

    purpose_id: UUID
    statement: str
    reason: str


class PurposeStep(msgspec.Struct, frozen=True, kw_only=True):
    """Endorse a purpose, or withdraw an endorsement: the caller is the endorser."""

    purpose_id: UUID


class AdoptPurpose(msgspec.Struct, frozen=True, kw_only=True):
    """The decision rule in force the forum used, and the meeting it decided at, if any."""

    purpose_id: UUID
    basis: DecisionBasis
    meeting_id: UUID | None = None


class RetirePurpose(msgspec.Struct, frozen=True, kw_only=True):
    """Retire a purpose, with a reason."""

    purpose_id: UUID
    reason: str


async def propose(app: Commands, call: Request, command: ProposePurpose) -> Saved:
    """A member proposes; an integration names the member it acts for."""

    async def build() -> list[Purpose]:
        policy.writer(call.principal)
        forum = await visible_forum(app.repository, call.principal, command.forum_id, "forum_id")
        by = policy.acting_member(call.principal, forum, "propose-purposes")
        return [Purpose.propose(command.purpose_id, forum.id, command.statement, by)]

    return await app.create(call, build)


async def revise(app: Commands, call: Request, command: RevisePurpose) -> Saved:
    """Proposed or adopted purposes may be revised by a member; the statement must change."""

    async def act(purpose: Purpose) -> None:
        forum = await app.repository.read(Forum, purpose.forum_id)
        by = policy.acting_member(call.principal, forum, "revise-purposes")
        purpose.revise(by, command.statement, command.reason)

    await reads.reachable(app.repository, call.principal, Purpose, command.purpose_id)
    return await app.update(call, Purpose, command.purpose_id, act)


async def endorse(app: Commands, call: Request, command: PurposeStep) -> Saved:
    """A member endorses, with their affiliation today where the forum meets."""
    by = policy.leader(call.principal, "endorse-purposes")
    await reads.reachable(app.repository, call.principal, Purpose, command.purpose_id)

    async def act(purpose: Purpose) -> None:
        forum = await app.repository.read(Forum, purpose.forum_id)
        if not forum.is_member(by):
            raise NotAllowed("only-forum-members-can-endorse-purposes", by)
        today = today_in(app.now, forum.timezone)
        purpose.endorse(by, await affiliation_on(app.repository, by, today))

    return await app.update(call, Purpose, command.purpose_id, act)


async def withdraw_endorsement(app: Commands, call: Request, command: PurposeStep) -> Saved:
    """Allowed even after leaving the forum: an endorsement stays the endorser's own."""
    by = policy.leader(call.principal, "withdraw-endorsements")
    await reads.reachable(app.repository, call.principal, Purpose, command.purpose_id)
    return await app.update(call, Purpose, command.purpose_id, lambda p: p.withdraw_endorsement(by))


async def adopt(app: Commands, call: Request, command: AdoptPurpose) -> Saved:
    """A steward adopts under a decision rule of the forum in force; the meeting, if named,
    must be one of the purpose's forum, and its attendance is recorded with the decision."""

    async def act(purpose: Purpose) -> None:
        forum = await app.repository.read(Forum, purpose.forum_id)
        policy.steward(call.principal, forum, "adopt-purposes")
        meeting = await meeting_of(app.repository, command.meeting_id, forum)
        decided = await decision(app.repository, forum, command.basis, meeting)
        purpose.adopt(decided, command.meeting_id)

    await reads.reachable(app.repository, call.principal, Purpose, command.purpose_id)
    return await app.update(call, Purpose, command.purpose_id, act)


async def retire(app: Commands, call: Request, command: RetirePurpose) -> Saved:
    """A steward retires it; commitments may no longer cite it."""

    async def act(purpose: Purpose) -> None:
        forum = await app.repository.read(Forum, purpose.forum_id)
        policy.steward(call.principal, forum, "retire-purposes")
        purpose.retire(command.reason)

    await reads.reachable(app.repository, call.principal, Purpose, command.purpose_id)
    return await app.update(call, Purpose, command.purpose_id, act)
