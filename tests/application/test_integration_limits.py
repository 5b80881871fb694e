"""An integration limited to some forums writes in those alone, and nothing elsewhere."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

import msgspec
import pytest
from eventsourcing.domain import Aggregate

from tests.application.conftest import Forum, as_leader, caller
from tests.clock import Clock
from tracker.application import agreements, commitments, forums, meetings, purposes
from tracker.application import commitment_commands as c
from tracker.application.commands import Commands, Request
from tracker.application.commitment_steps import act_on
from tracker.application.decisions import DecisionBasis
from tracker.application.errors import NotFound
from tracker.application.minutes import DecisionLine, TakeMinutes, take_minutes
from tracker.application.principal import INTEGRATION
from tracker.domain import Agreement, Commitment, InvalidValue, Meeting, Purpose
from tracker.domain import Forum as ForumAggregate
from tracker.eventstore.repository import Repository


def limited(forum_ids: tuple[UUID, ...], on_behalf_of: UUID | None = None) -> Request:
    """A command from an integration limited to these forums, on behalf of a leader."""
    principal = msgspec.structs.replace(
        caller(INTEGRATION), forum_ids=forum_ids, on_behalf_of=on_behalf_of
    )
    return Request(principal=principal)


class Resources(msgspec.Struct, kw_only=True):
    """One of everything in the forum, to write to."""

    commitment: UUID
    meeting: UUID
    agreement: UUID


@pytest.fixture
async def resources(app: Commands, forum: Forum, clock: Clock) -> Resources:
    commitment = commitments.MakeCommitment(
        commitment_id=uuid.uuid4(),
        forum_id=forum.id,
        owner_id=forum.member,
        description="Open the library on weekday evenings",
        purpose_ids=(forum.purpose,),
    )
    await commitments.make(app, as_leader(forum.member), commitment)
    meeting = scheduling(forum, clock)
    await meetings.schedule(app, as_leader(forum.convenor), meeting)
    agreement = proposing(forum.id)
    await agreements.propose(app, as_leader(forum.member), agreement)
    return Resources(
        commitment=commitment.commitment_id,
        meeting=meeting.meeting_id,
        agreement=agreement.agreement_id,
    )


def scheduling(forum: Forum, clock: Clock) -> meetings.ScheduleMeeting:
    return meetings.ScheduleMeeting(
        meeting_id=uuid.uuid4(),
        forum_id=forum.id,
        title="Winter pressures",
        starts_at=clock() + timedelta(days=1),
    )


def proposing(scope_id: UUID, scope: str = "forum") -> agreements.ProposeAgreement:
    return agreements.ProposeAgreement(
        agreement_id=uuid.uuid4(),
        scope=scope,
        scope_id=scope_id,
        kind="decision_rule",
        title="Consent",
        text="We decide by consent",
    )


async def test_it_creates_nothing_in_a_forum_outside_its_limit(
    app: Commands, repository: Repository, forum: Forum, clock: Clock
) -> None:
    elsewhere = limited((uuid.uuid4(),), on_behalf_of=forum.member)
    making = commitments.MakeCommitment(
        commitment_id=uuid.uuid4(),
        forum_id=forum.id,
        owner_id=forum.other_member,
        description="Lend the hall",
        purpose_ids=(forum.purpose,),
    )
    proposal = purposes.ProposePurpose(
        purpose_id=uuid.uuid4(), forum_id=forum.id, statement="Nobody goes hungry"
    )
    creations: list[Callable[[], Awaitable[object]]] = [
        lambda: commitments.make(app, elsewhere, making),
        lambda: purposes.propose(app, elsewhere, proposal),
        lambda: agreements.propose(app, elsewhere, proposing(forum.id)),
        lambda: meetings.schedule(app, elsewhere, scheduling(forum, clock)),
    ]
    fields = ("forum_id", "forum_id", "scope_id", "forum_id")
    for create, field in zip(creations, fields, strict=True):
        # Not a rule naming the limit: to this caller the forum is as unknown as any other id.
        with pytest.raises(InvalidValue) as refused:
            await create()
        assert (refused.value.field, refused.value.reason) == (field, f"no such forum: {forum.id}")
    assert not await _exists(repository, Commitment, making.commitment_id)
    assert not await _exists(repository, Purpose, proposal.purpose_id)


async def test_a_purpose_outside_its_limit_is_an_unknown_agreement_scope(
    app: Commands, forum: Forum
) -> None:
    elsewhere = limited((uuid.uuid4(),), on_behalf_of=forum.member)
    with pytest.raises(InvalidValue) as refused:
        await agreements.propose(app, elsewhere, proposing(forum.purpose, scope="purpose"))
    assert (refused.value.field, refused.value.reason) == (
        "scope_id",
        f"no such purpose: {forum.purpose}",
    )


async def test_resources_outside_its_limit_do_not_exist_for_its_writes(
    app: Commands, repository: Repository, forum: Forum, resources: Resources
) -> None:
    elsewhere = limited((uuid.uuid4(),), on_behalf_of=forum.member)
    writes: list[tuple[type[Aggregate], UUID, Callable[[], Awaitable[object]]]] = [
        (Commitment, resources.commitment, lambda: act_on(app, elsewhere, _comment(resources))),
        (Purpose, forum.purpose, lambda: purposes.adopt(app, elsewhere, _adopt(forum))),
        (Purpose, forum.purpose, lambda: purposes.revise(app, elsewhere, _revise(forum))),
        (
            Meeting,
            resources.meeting,
            lambda: meetings.open_meeting(app, elsewhere, _open(resources)),
        ),
        (Meeting, resources.meeting, lambda: take_minutes(app, elsewhere, _minutes(resources))),
        (
            Agreement,
            resources.agreement,
            lambda: agreements.adopt(app, elsewhere, _ratify(resources)),
        ),
        (
            Agreement,
            resources.agreement,
            lambda: agreements.amend(app, elsewhere, _amend(resources)),
        ),
        (ForumAggregate, forum.id, lambda: forums.rename(app, elsewhere, _rename(forum))),
    ]
    for cls, resource_id, write in writes:
        before = (await repository.get(cls, resource_id)).version
        with pytest.raises(NotFound) as refused:
            await write()
        assert refused.value.aggregate_id == resource_id
        assert (await repository.get(cls, resource_id, fresh=True)).version == before


async def test_if_match_is_not_judged_for_a_resource_outside_its_limit(
    app: Commands, forum: Forum, resources: Resources
) -> None:
    stale = msgspec.structs.replace(limited((uuid.uuid4(),), forum.member), if_match=99)
    with pytest.raises(NotFound):
        await take_minutes(app, stale, _minutes(resources))


async def test_within_its_limit_it_records_as_before(
    app: Commands, repository: Repository, forum: Forum, resources: Resources
) -> None:
    mine = limited((forum.id,), on_behalf_of=forum.other_member)
    await act_on(app, mine, _comment(resources))
    await meetings.open_meeting(app, mine, _open(resources))
    assert (await repository.get(Commitment, resources.commitment)).version == 2
    assert (await repository.get(Meeting, resources.meeting)).version == 2


async def _exists(repository: Repository, cls: type[Aggregate], resource_id: UUID) -> bool:
    try:
        await repository.get(cls, resource_id, fresh=True)
    except NotFound:
        return False
    return True


def _comment(resources: Resources) -> c.Comment:
    return c.Comment(commitment_id=resources.commitment, text="Noted")


def _adopt(forum: Forum) -> purposes.AdoptPurpose:
    basis = DecisionBasis(decision_rule_id=uuid.uuid4())
    return purposes.AdoptPurpose(purpose_id=forum.purpose, basis=basis)


def _revise(forum: Forum) -> purposes.RevisePurpose:
    return purposes.RevisePurpose(purpose_id=forum.purpose, statement="Warm", reason="Shorter")


def _open(resources: Resources) -> meetings.MeetingStep:
    return meetings.MeetingStep(meeting_id=resources.meeting)


def _minutes(resources: Resources) -> TakeMinutes:
    decision = DecisionLine(decision_id=uuid.uuid4(), text="Open on Sundays")
    return TakeMinutes(meeting_id=resources.meeting, decisions=(decision,))


def _ratify(resources: Resources) -> agreements.AdoptAgreement:
    basis = DecisionBasis(decision_rule_id=uuid.uuid4())
    return agreements.AdoptAgreement(agreement_id=resources.agreement, basis=basis)


def _amend(resources: Resources) -> agreements.AmendAgreement:
    return agreements.AmendAgreement(
        agreement_id=resources.agreement, text="We decide by consent, quorum three", reason="Quorum"
    )


def _rename(forum: Forum) -> forums.RenameForum:
    return forums.RenameForum(forum_id=forum.id, name="Warm Rooms")
