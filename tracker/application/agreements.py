"""Agreements: proposed by members of a forum, adopted, amended and rescinded by its stewards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import msgspec

from tracker.application import policy, reads
from tracker.application.commands import Commands, Request, at_version
from tracker.application.decisions import DecisionBasis, change_decision, decision
from tracker.application.ports import Repository, Saved
from tracker.application.principal import Principal
from tracker.application.references import meeting_of, referenced, unknown, visible_forum
from tracker.domain import Agreement, Forum, InvalidValue, Purpose
from tracker.domain.agreement import DECISION_RULE, FORUM
from tracker.domain.values import Decision


class ProposeAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """Propose an agreement for a forum, or for a purpose (in the purpose's forum)."""

    agreement_id: UUID
    scope: str
    scope_id: UUID
    kind: str
    title: str
    text: str


class AdoptAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """The decision rule in force the forum used (or bootstrap consent), and the meeting."""

    agreement_id: UUID
    basis: DecisionBasis
    meeting_id: UUID | None = None


class AmendAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """New text, why it changed, the decision rule in force it was decided under, the meeting."""

    agreement_id: UUID
    text: str
    reason: str
    decision_rule_id: UUID | None = None
    meeting_id: UUID | None = None


class RescindAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """Take an adopted agreement out of force, with a reason, under the rule in force."""

    agreement_id: UUID
    reason: str
    decision_rule_id: UUID | None = None
    meeting_id: UUID | None = None


async def forum_of(repository: Repository, scope: str, scope_id: UUID) -> Forum:
    """The forum an agreement belongs to: its scope, or its purpose's forum."""
    if scope == FORUM:
        return await repository.get(Forum, scope_id)
    purpose = await repository.get(Purpose, scope_id)
    return await repository.get(Forum, purpose.forum_id)


async def scoped_forum(
    repository: Repository, principal: Principal, scope: str, scope_id: UUID
) -> Forum:
    """The forum a new agreement's scope refers to; an unknown or retired scope is refused."""
    if scope == FORUM:
        return await visible_forum(repository, principal, scope_id, "scope_id")
    purpose = await referenced(repository, Purpose, scope_id, "scope_id")
    forum = await repository.get(Forum, purpose.forum_id)
    if not policy.sees_forum(principal, forum.id, list(forum.members)):
        # A purpose the caller cannot read is, to them, as unknown as any other id.
        raise unknown(Purpose, scope_id, "scope_id")
    if purpose.is_retired:
        raise InvalidValue("scope_id", "the purpose is retired")
    return forum


def governs(agreement: Agreement) -> bool:
    """Whether the agreement is one of its forum's own decision rules."""
    return agreement.scope == FORUM and agreement.kind == DECISION_RULE


async def with_forum(
    app: Commands,
    call: Request,
    agreement_id: UUID,
    act: Callable[[Agreement, Forum], Awaitable[None] | None],
) -> Saved:
    """Act on an agreement and its forum, then save both in one append (the forum if changed)."""
    # If-Match applies to the agreement alone, the stream the client names; a concurrent write
    # to the forum is retried like any other (Commands.create).

    async def build() -> list[Agreement | Forum]:
        await reads.reachable(app.repository, call.principal, Agreement, agreement_id)
        agreement = await at_version(app.repository, Agreement, agreement_id, call.if_match)
        forum = await forum_of(app.repository, agreement.scope, agreement.scope_id)
        outcome = act(agreement, forum)
        if outcome is not None:
            await outcome
        return [agreement, forum]

    return await app.create(call, build)


async def decided_change(
    app: Commands, forum: Forum, rule_id: UUID | None, meeting_id: UUID | None
) -> Decision | None:
    """The decision an amendment or rescission was made under, and who was present."""
    meeting = await meeting_of(app.repository, meeting_id, forum)
    return await change_decision(app.repository, forum, rule_id, meeting)


async def propose(app: Commands, call: Request, command: ProposeAgreement) -> Saved:
    """A member of the forum proposes; an integration names the member it acts for."""

    async def build() -> list[Agreement]:
        policy.writer(call.principal)
        forum = await scoped_forum(app.repository, call.principal, command.scope, command.scope_id)
        by = policy.acting_member(call.principal, forum, "propose-agreements")
        c = command
        return [Agreement.propose(c.agreement_id, c.scope, c.scope_id, c.kind, c.title, c.text, by)]

    return await app.create(call, build)


async def adopt(app: Commands, call: Request, command: AdoptAgreement) -> Saved:
    """Adopted under a decision rule of the forum in force; only a forum's first decision rule
    may be adopted by bootstrap consent, of every member present (or of every member)."""

    async def act(agreement: Agreement, forum: Forum) -> None:
        policy.steward(call.principal, forum, "adopt-agreements")
        meeting = await meeting_of(app.repository, command.meeting_id, forum)
        first = agreement.is_first_rule_candidate and not forum.has_decision_rule
        decided = await decision(app.repository, forum, command.basis, meeting, first)
        agreement.adopt(decided, command.meeting_id, forum.has_decision_rule)
        if governs(agreement):
            forum.adopt_decision_rule(agreement.id)

    return await with_forum(app, call, command.agreement_id, act)


async def amend(app: Commands, call: Request, command: AmendAgreement) -> Saved:
    """Proposed or adopted agreements may be amended; the text must change. A decision rule may
    be amended under itself: the decision keeps its version before the amendment."""

    async def act(agreement: Agreement) -> None:
        forum = await forum_of(app.repository, agreement.scope, agreement.scope_id)
        policy.steward(call.principal, forum, "amend-agreements")
        decided = await decided_change(app, forum, command.decision_rule_id, command.meeting_id)
        agreement.amend(command.text, command.reason, decided, command.meeting_id)

    await reads.reachable(app.repository, call.principal, Agreement, command.agreement_id)
    return await app.update(call, Agreement, command.agreement_id, act)


async def rescind(app: Commands, call: Request, command: RescindAgreement) -> Saved:
    """A decision rule may be rescinded under itself; rescinding a forum's only decision rule
    leaves it with none, so its next rule is adopted by bootstrap consent."""

    async def act(agreement: Agreement, forum: Forum) -> None:
        policy.steward(call.principal, forum, "rescind-agreements")
        decided = await decided_change(app, forum, command.decision_rule_id, command.meeting_id)
        agreement.rescind(command.reason, decided, command.meeting_id)
        # Decision rules adopted before the forum kept track of them are not in its set.
        if agreement.id in forum.decision_rules:
            forum.rescind_decision_rule(agreement.id)

    return await with_forum(app, call, command.agreement_id, act)
