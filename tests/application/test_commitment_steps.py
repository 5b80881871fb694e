"""Who may act on a commitment, and the checks that reach beyond it, below HTTP."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from tests.application.conftest import (
    AUDITOR_CALL,
    RECORDER_CALL,
    Forum,
    as_kind,
    as_leader,
    new_forum,
    new_leader,
    new_purpose,
)
from tracker.api.resources.commitment_routes import ROUTES
from tracker.application import commitment_commands as c
from tracker.application import commitments
from tracker.application.commands import Commands, Request
from tracker.application.commitment_steps import STEPS, act_on
from tracker.application.principal import INTEGRATION
from tracker.domain import Commitment, InvalidValue, NotAllowed
from tracker.domain.commitment import ACTIVE, CANCELLED, WITHDRAWN
from tracker.eventstore.repository import Repository


async def made(app: Commands, forum: Forum, call: Request, owner: UUID) -> UUID:
    """A commitment in the forum, made (or recorded) by the caller."""
    commitment_id = uuid.uuid4()
    command = commitments.MakeCommitment(
        commitment_id=commitment_id,
        forum_id=forum.id,
        owner_id=owner,
        description="Open the library on weekday evenings",
        purpose_ids=(forum.purpose,),
    )
    await commitments.make(app, call, command)
    return commitment_id


def test_every_step_has_one_rule_and_one_route() -> None:
    steps = {s for s in vars(c).values() if isinstance(s, type) and issubclass(s, c.CommitmentStep)}
    concrete = steps - {c.CommitmentStep, c.WithReason, c.Terms}
    assert set(STEPS) == concrete
    assert sorted(r.command.__name__ for r in ROUTES) == sorted(s.__name__ for s in concrete)


async def test_only_the_owner_themselves_may_accept_a_proposal(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    commitment_id = await made(app, forum, as_leader(forum.member), forum.other_member)
    accept = c.Accept(commitment_id=commitment_id)
    with pytest.raises(NotAllowed) as refused:
        await act_on(app, RECORDER_CALL, accept)
    assert refused.value.rule == "only-the-leader-themselves-can-accept"
    with pytest.raises(NotAllowed) as refused:
        await act_on(app, as_leader(forum.member), accept)
    assert refused.value.rule == "only-owner-can-accept"
    await act_on(app, as_leader(forum.other_member), accept)
    assert (await repository.get(Commitment, commitment_id)).status == ACTIVE


async def test_an_auditor_may_take_no_step(app: Commands, forum: Forum) -> None:
    commitment_id = await made(app, forum, as_leader(forum.member), forum.member)
    with pytest.raises(NotAllowed) as refused:
        await act_on(app, AUDITOR_CALL, c.ReportProgress(commitment_id=commitment_id, percent=10))
    assert refused.value.rule == "auditors-only-read"


async def test_a_steward_withdraws_a_request_nobody_made(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    # Recorded by an integration for nobody: there is no requester, so a steward decides.
    commitment_id = await made(app, forum, RECORDER_CALL, forum.member)
    withdraw = c.Withdraw(commitment_id=commitment_id, reason="no longer needed")
    with pytest.raises(NotAllowed) as refused:
        await act_on(app, as_leader(forum.other_member), withdraw)
    assert refused.value.rule == "only-requester-or-steward-can-withdraw"
    await act_on(app, as_leader(forum.convenor), withdraw)
    assert (await repository.get(Commitment, commitment_id)).status == WITHDRAWN


async def test_a_steward_may_not_cancel_what_a_requester_asked_for(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    requested = await made(app, forum, as_leader(forum.other_member), forum.member)
    await act_on(app, as_leader(forum.member), c.Accept(commitment_id=requested))
    cancel = c.Cancel(commitment_id=requested, reason="the venue closed")
    with pytest.raises(NotAllowed):
        await act_on(app, as_leader(forum.convenor), cancel)
    await act_on(app, as_leader(forum.other_member), cancel)
    assert (await repository.get(Commitment, requested)).status == CANCELLED


async def test_a_handover_goes_only_to_a_member_of_the_forum(app: Commands, forum: Forum) -> None:
    commitment_id = await made(app, forum, as_leader(forum.member), forum.member)
    offer = c.OfferHandover(commitment_id=commitment_id, to_id=forum.outsider)
    with pytest.raises(InvalidValue) as refused:
        await act_on(app, as_leader(forum.member), offer)
    assert refused.value.field == "to_id"


async def test_a_cited_purpose_must_be_the_commitments_forums(app: Commands, forum: Forum) -> None:
    commitment_id = await made(app, forum, as_leader(forum.member), forum.member)
    elsewhere = await new_forum(app, await new_leader(app, "Eve Stone"), forum.member)
    foreign = await new_purpose(app, elsewhere, forum.member)
    link = c.LinkPurpose(commitment_id=commitment_id, purpose_id=foreign)
    with pytest.raises(InvalidValue) as refused:
        await act_on(app, as_leader(forum.member), link)
    assert refused.value.field == "purpose_id"


async def test_a_recorder_comments_only_on_behalf_of_a_named_leader(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    commitment_id = await made(app, forum, as_leader(forum.member), forum.member)
    comment = c.Comment(commitment_id=commitment_id, text="Two of three sites open")
    with pytest.raises(InvalidValue) as refused:
        await act_on(app, RECORDER_CALL, comment)
    assert refused.value.field == "On-Behalf-Of"
    await act_on(app, as_kind(INTEGRATION, on_behalf_of=forum.member), comment)
    assert (await repository.get(Commitment, commitment_id)).version == 2
