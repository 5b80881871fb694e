"""Reading one resource: only callers who may see its forum learn that it exists."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec
import pytest
from eventsourcing.domain import Aggregate

from tests.application.conftest import ADMIN_CALL, Forum, as_leader, caller
from tracker.application import agreements, forums, reads
from tracker.application.commands import Commands
from tracker.application.errors import NotFound
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal
from tracker.domain import Agreement, Purpose
from tracker.domain import Forum as ForumAggregate
from tracker.eventstore.repository import Repository


def limited_to(*forum_ids: UUID) -> Principal:
    """An integration token limited to these forums."""
    return msgspec.structs.replace(caller(INTEGRATION), forum_ids=forum_ids)


async def purpose_agreement(app: Commands, forum: Forum) -> UUID:
    """An agreement scoped to the forum's purpose, so its forum is found through the purpose."""
    agreement_id = uuid.uuid4()
    command = agreements.ProposeAgreement(
        agreement_id=agreement_id,
        scope="purpose",
        scope_id=forum.purpose,
        kind="expectation",
        title="Open doors",
        text="Sites open by six",
    )
    await agreements.propose(app, as_leader(forum.member), command)
    return agreement_id


async def refused_as_unknown(
    repository: Repository, principal: Principal, cls: type[Aggregate], resource_id: UUID
) -> None:
    """The refusal is NotFound, word for word what an id that does not exist gets."""
    with pytest.raises(NotFound) as refused:
        await reads.readable(repository, principal, cls, resource_id)
    unknown = uuid.uuid4()
    with pytest.raises(NotFound) as missing:
        await reads.readable(repository, principal, cls, unknown)
    assert str(refused.value) == str(missing.value).replace(str(unknown), str(resource_id))


async def test_members_admins_and_auditors_read_a_forums_resources(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    agreement_id = await purpose_agreement(app, forum)
    for principal in (caller(LEADER, forum.other_member), caller(ADMIN), caller(AUDITOR)):
        purpose = await reads.readable(repository, principal, Purpose, forum.purpose)
        assert purpose.forum_id == forum.id
        await reads.readable(repository, principal, ForumAggregate, forum.id)
        await reads.readable(repository, principal, Agreement, agreement_id)


async def test_a_leader_of_another_forum_is_told_it_does_not_exist(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    agreement_id = await purpose_agreement(app, forum)
    outsider = caller(LEADER, forum.outsider)
    await refused_as_unknown(repository, outsider, Purpose, forum.purpose)
    await refused_as_unknown(repository, outsider, ForumAggregate, forum.id)
    await refused_as_unknown(repository, outsider, Agreement, agreement_id)


async def test_a_member_who_left_the_forum_no_longer_reads_it(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    await reads.readable(repository, caller(LEADER, forum.member), Purpose, forum.purpose)
    departure = forums.Membership(forum_id=forum.id, leader_id=forum.member)
    await forums.depart(app, ADMIN_CALL, departure)
    await refused_as_unknown(repository, caller(LEADER, forum.member), Purpose, forum.purpose)


async def test_an_integration_reads_within_its_forum_limit(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    agreement_id = await purpose_agreement(app, forum)
    for principal in (caller(INTEGRATION), limited_to(forum.id)):
        await reads.readable(repository, principal, Agreement, agreement_id)
    elsewhere = limited_to(uuid.uuid4())
    await refused_as_unknown(repository, elsewhere, Agreement, agreement_id)
    await refused_as_unknown(repository, elsewhere, ForumAggregate, forum.id)


async def test_a_limited_integration_may_not_write_to_what_it_may_not_read(
    repository: Repository, forum: Forum
) -> None:
    await reads.reachable(repository, limited_to(forum.id), Purpose, forum.purpose)
    with pytest.raises(NotFound):
        await reads.reachable(repository, limited_to(uuid.uuid4()), Purpose, forum.purpose)
    # Nor may a leader of no forum of the purpose's.
    with pytest.raises(NotFound):
        await reads.reachable(repository, caller(LEADER, forum.outsider), Purpose, forum.purpose)
