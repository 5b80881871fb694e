"""Every step of a commitment's lifecycle: who may take it, then what the commitment allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from tracker.application import commitment_commands as c
from tracker.application import policy, reads
from tracker.application.commands import Commands, Request
from tracker.application.ports import Repository, Saved
from tracker.application.principal import Principal
from tracker.application.references import forums_own
from tracker.domain import Commitment, Forum, InvalidValue, Purpose

S = TypeVar("S", bound=c.CommitmentStep)
Act = Callable[[Commitment, "Actor", Any], Awaitable[None] | None]
Authorise = Callable[[Principal], UUID]


class Actor:
    """The leader a step is by, and what the step may need to know about them."""

    def __init__(self, by: UUID, principal: Principal, repository: Repository) -> None:
        self.by = by
        self.principal = principal
        self.repository = repository

    async def steward(self, commitment: Commitment) -> bool:
        """Whether the caller acts as one of the commitment's forum's stewards."""
        forum = await self.repository.read(Forum, commitment.forum_id)
        return policy.is_steward(self.principal, forum)


# The one table of steps: the command, who may take it, and what it does to the commitment.
STEPS: dict[type[c.CommitmentStep], tuple[Authorise, Act]] = {}


def step(command: type[S], rule: str | Authorise) -> Callable[[Act], Act]:
    """Register what a command does; a rule name means the leader themselves must take it."""
    authorise = rule if callable(rule) else (lambda p: policy.leader(p, rule))

    def register(act: Act) -> Act:
        STEPS[command] = (authorise, act)
        return act

    return register


async def act_on(app: Commands, call: Request, command: c.CommitmentStep) -> Saved:
    """Take one step of a commitment's lifecycle, on its latest state."""
    authorise, act = STEPS[type(command)]
    actor = Actor(authorise(call.principal), call.principal, app.repository)
    await reads.reachable(app.repository, call.principal, Commitment, command.commitment_id)
    return await app.update(
        call, Commitment, command.commitment_id, lambda it: act(it, actor, command)
    )


@step(c.Accept, "accept")
def _accept(it: Commitment, who: Actor, _: c.Accept) -> None:
    it.accept(who.by)


@step(c.Decline, "decline")
def _decline(it: Commitment, who: Actor, command: c.Decline) -> None:
    it.decline(who.by, command.reason)


@step(c.CounterOffer, "counter-offer")
def _counter_offer(it: Commitment, who: Actor, command: c.CounterOffer) -> None:
    it.counter_offer(who.by, command.due_on, command.description, command.reason)


@step(c.AcceptCounterOffer, "accept-counter-offers")
def _accept_counter_offer(it: Commitment, who: Actor, _: c.AcceptCounterOffer) -> None:
    it.accept_counter_offer(who.by)


@step(c.Withdraw, "withdraw")
async def _withdraw(it: Commitment, who: Actor, command: c.Withdraw) -> None:
    it.withdraw(who.by, await who.steward(it), command.reason)


@step(c.ReportProgress, "report-progress")
def _report_progress(it: Commitment, who: Actor, command: c.ReportProgress) -> None:
    it.report_progress(who.by, command.percent, command.note)


@step(c.Renegotiate, "renegotiate")
def _renegotiate(it: Commitment, who: Actor, command: c.Renegotiate) -> None:
    it.renegotiate(who.by, command.reason, command.due_on, command.description)


@step(c.AgreeRenegotiation, "agree-renegotiations")
def _agree_renegotiation(it: Commitment, who: Actor, _: c.AgreeRenegotiation) -> None:
    it.agree_renegotiation(who.by)


@step(c.RejectRenegotiation, "reject-renegotiations")
def _reject_renegotiation(it: Commitment, who: Actor, command: c.RejectRenegotiation) -> None:
    it.reject_renegotiation(who.by, command.reason)


@step(c.OfferHandover, "offer-handovers")
async def _offer_handover(it: Commitment, who: Actor, command: c.OfferHandover) -> None:
    forum = await who.repository.read(Forum, it.forum_id)
    if not forum.is_member(command.to_id):
        raise InvalidValue("to_id", "must be a member of the commitment's forum")
    it.offer_handover(who.by, command.to_id, command.note)


@step(c.AcceptHandover, "accept-handovers")
def _accept_handover(it: Commitment, who: Actor, _: c.AcceptHandover) -> None:
    it.accept_handover(who.by)


@step(c.DeclineHandover, "decline-handovers")
def _decline_handover(it: Commitment, who: Actor, command: c.DeclineHandover) -> None:
    it.decline_handover(who.by, command.reason)


@step(c.WithdrawHandover, "withdraw-handovers")
def _withdraw_handover(it: Commitment, who: Actor, _: c.WithdrawHandover) -> None:
    it.withdraw_handover(who.by)


@step(c.Release, "release")
def _release(it: Commitment, who: Actor, command: c.Release) -> None:
    it.release(who.by, command.reason)


@step(c.Complete, "complete")
def _complete(it: Commitment, who: Actor, command: c.Complete) -> None:
    it.complete(who.by, command.reason)


@step(c.Acknowledge, "acknowledge")
async def _acknowledge(it: Commitment, who: Actor, _: c.Acknowledge) -> None:
    it.acknowledge(who.by, await who.steward(it))


@step(c.Dispute, "dispute")
async def _dispute(it: Commitment, who: Actor, command: c.Dispute) -> None:
    it.dispute(who.by, command.reason, await who.steward(it))


@step(c.Cancel, "cancel")
async def _cancel(it: Commitment, who: Actor, command: c.Cancel) -> None:
    it.cancel(who.by, command.reason, await who.steward(it))


@step(c.Reopen, "reopen")
def _reopen(it: Commitment, who: Actor, command: c.Reopen) -> None:
    it.reopen(who.by, command.reason)


@step(c.LinkPurpose, "link-purposes")
async def _link_purpose(it: Commitment, who: Actor, command: c.LinkPurpose) -> None:
    purpose = await forums_own(
        who.repository, Purpose, command.purpose_id, "purpose_id", it.forum_id
    )
    it.link_purpose(who.by, purpose.id, purpose.is_retired, await who.steward(it))


@step(c.UnlinkPurpose, "unlink-purposes")
async def _unlink_purpose(it: Commitment, who: Actor, command: c.UnlinkPurpose) -> None:
    it.unlink_purpose(who.by, command.purpose_id, await who.steward(it))


@step(c.Comment, policy.commenter)
async def _comment(it: Commitment, who: Actor, command: c.Comment) -> None:
    forum = await who.repository.read(Forum, it.forum_id)
    policy.in_forum(who.principal, forum, "comment")
    policy.may_comment(who.by, forum, (it.owner_id, it.requester_id))
    it.comment(who.by, command.text)


@step(c.CorrectRecord, "correct-the-record")
async def _correct(it: Commitment, who: Actor, command: c.CorrectRecord) -> None:
    steward = await who.steward(it)
    it.correct_record(who.by, command.reason, command.due_on, command.description, steward)
