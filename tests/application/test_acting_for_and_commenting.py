"""The leader an integration acts for is a member of the forum; commenters have a stake."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

import pytest

from tests.application.conftest import ADMIN_CALL, Forum, as_kind, as_leader, new_forum, new_leader
from tests.clock import Clock
from tracker.application import commitment_commands as c
from tracker.application import commitments, forums, meetings
from tracker.application.commands import Commands
from tracker.application.commitment_steps import act_on
from tracker.application.errors import NotFound
from tracker.application.principal import INTEGRATION
from tracker.domain import Commitment, NotAllowed
from tracker.eventstore.repository import Repository


async def made(app: Commands, forum: Forum, owner: UUID) -> UUID:
    """A commitment the owner made for themselves."""
    command = making(forum, owner)
    await commitments.make(app, as_leader(owner), command)
    return command.commitment_id


def making(forum: Forum, owner: UUID) -> commitments.MakeCommitment:
    return commitments.MakeCommitment(
        commitment_id=uuid.uuid4(),
        forum_id=forum.id,
        owner_id=owner,
        description="Open the library on weekday evenings",
        purpose_ids=(forum.purpose,),
    )


async def departed(app: Commands, forum: Forum, leader_id: UUID) -> UUID:
    """The leader, once they have left the forum."""
    await forums.depart(app, ADMIN_CALL, forums.Membership(forum_id=forum.id, leader_id=leader_id))
    return leader_id


async def test_a_commitment_is_requested_only_on_behalf_of_a_member(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    strangers = [uuid.uuid4(), forum.outsider, await departed(app, forum, forum.other_member)]
    for stranger in strangers:
        command = making(forum, forum.member)
        with pytest.raises(NotAllowed) as refused:
            await commitments.make(app, as_kind(INTEGRATION, on_behalf_of=stranger), command)
        assert (refused.value.rule, refused.value.by) == (
            "only-forum-members-can-make-commitments",
            stranger,
        )
    command = making(forum, forum.member)
    await commitments.make(app, as_kind(INTEGRATION, on_behalf_of=forum.convenor), command)
    made_ = await repository.get(Commitment, command.commitment_id)
    assert made_.requester_id == forum.convenor


async def test_record_keeping_is_on_behalf_of_a_member_too(
    app: Commands, forum: Forum, clock: Clock
) -> None:
    schedule = meetings.ScheduleMeeting(
        meeting_id=uuid.uuid4(),
        forum_id=forum.id,
        title="Winter pressures",
        starts_at=clock() + timedelta(days=1),
    )
    with pytest.raises(NotAllowed) as refused:
        await meetings.schedule(app, as_kind(INTEGRATION, on_behalf_of=uuid.uuid4()), schedule)
    assert refused.value.rule == "only-forum-members-can-schedule-meetings"
    await meetings.schedule(app, as_kind(INTEGRATION, on_behalf_of=forum.convenor), schedule)


async def test_to_a_leader_of_another_forum_the_commitment_is_unknown(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    commitment_id = await made(app, forum, forum.member)
    comment = c.Comment(commitment_id=commitment_id, text="Why not Sundays?")
    with pytest.raises(NotFound):
        await act_on(app, as_leader(forum.outsider), comment)
    assert (await repository.get(Commitment, commitment_id)).version == 1


async def test_an_integration_comments_only_on_behalf_of_a_member(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    commitment_id = await made(app, forum, forum.member)
    comment = c.Comment(commitment_id=commitment_id, text="Noted at the meeting")
    for stranger in (uuid.uuid4(), forum.outsider):
        with pytest.raises(NotAllowed) as refused:
            await act_on(app, as_kind(INTEGRATION, on_behalf_of=stranger), comment)
        assert refused.value.rule == "only-forum-members-can-comment"
    assert (await repository.get(Commitment, commitment_id)).version == 1
    await act_on(app, as_kind(INTEGRATION, on_behalf_of=forum.other_member), comment)


async def test_members_stewards_and_parties_comment_even_after_leaving(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    commitment_id = await made(app, forum, forum.member)
    comment = c.Comment(commitment_id=commitment_id, text="Two of three sites open")
    await act_on(app, as_leader(forum.convenor), comment)  # a steward
    await act_on(app, as_leader(forum.other_member), comment)  # a member
    await act_on(app, as_leader(await departed(app, forum, forum.member)), comment)  # the owner
    assert (await repository.get(Commitment, commitment_id)).version == 4


async def test_a_member_who_left_and_has_no_stake_may_not_comment(
    app: Commands, forum: Forum
) -> None:
    commitment_id = await made(app, forum, forum.member)
    gone = await departed(app, forum, forum.other_member)
    # Leaving ends a member's sight of the forum: its commitments are unknown ids to them.
    with pytest.raises(NotFound):
        await act_on(app, as_leader(gone), c.Comment(commitment_id=commitment_id, text="Hi"))


async def test_belonging_to_another_forum_gives_no_say_here(app: Commands, forum: Forum) -> None:
    elsewhere = await new_forum(app, await new_leader(app, "Eve Stone"), forum.outsider)
    commitment_id = await made(app, forum, forum.member)
    assert elsewhere != forum.id
    with pytest.raises(NotFound):
        await act_on(
            app, as_leader(forum.outsider), c.Comment(commitment_id=commitment_id, text="Hi")
        )
