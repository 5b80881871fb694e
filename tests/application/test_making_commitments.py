"""Making a commitment: forum membership and the forum's purposes decide, below HTTP."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from tests.application.conftest import (
    ADMIN_CALL,
    AUDITOR_CALL,
    Forum,
    as_kind,
    as_leader,
    new_forum,
    new_leader,
    new_purpose,
)
from tracker.application import commitments
from tracker.application.commands import Commands
from tracker.application.principal import INTEGRATION
from tracker.domain import Commitment, InvalidValue, NotAllowed
from tracker.domain.commitment import ACTIVE, PROPOSED
from tracker.eventstore.repository import Repository


def making(forum: Forum, owner: UUID, **changes: object) -> commitments.MakeCommitment:
    fields: dict[str, object] = {
        "commitment_id": uuid.uuid4(),
        "forum_id": forum.id,
        "owner_id": owner,
        "description": "Open the library on weekday evenings",
        "purpose_ids": (forum.purpose,),
    }
    return commitments.MakeCommitment(**(fields | changes))  # type: ignore[arg-type]


async def test_a_member_promising_for_themselves_makes_an_active_commitment(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    command = making(forum, forum.member)
    await commitments.make(app, as_leader(forum.member), command)
    made = await repository.get(Commitment, command.commitment_id)
    assert (made.status, made.requester_id) == (ACTIVE, None)


async def test_a_member_asking_another_member_makes_a_proposal_they_requested(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    command = making(forum, forum.other_member)
    await commitments.make(app, as_leader(forum.member), command)
    made = await repository.get(Commitment, command.commitment_id)
    assert (made.status, made.requester_id) == (PROPOSED, forum.member)


async def test_a_recorder_records_what_the_named_leader_asked_for(
    app: Commands, repository: Repository, forum: Forum
) -> None:
    command = making(forum, forum.other_member)
    await commitments.make(app, as_kind(INTEGRATION, on_behalf_of=forum.member), command)
    made = await repository.get(Commitment, command.commitment_id)
    assert (made.status, made.made_by, made.requester_id) == (PROPOSED, None, forum.member)


async def test_to_a_leader_outside_the_forum_it_is_an_unknown_forum(
    app: Commands, forum: Forum
) -> None:
    with pytest.raises(InvalidValue) as refused:
        await commitments.make(app, as_leader(forum.outsider), making(forum, forum.outsider))
    assert (refused.value.field, refused.value.reason) == ("forum_id", f"no such forum: {forum.id}")


async def test_an_auditor_may_not_make_commitments(app: Commands, forum: Forum) -> None:
    with pytest.raises(NotAllowed) as refused:
        await commitments.make(app, AUDITOR_CALL, making(forum, forum.member))
    assert refused.value.rule == "auditors-only-read"


async def test_the_owner_must_be_a_member_of_the_forum(app: Commands, forum: Forum) -> None:
    with pytest.raises(InvalidValue) as refused:
        await commitments.make(app, ADMIN_CALL, making(forum, forum.outsider))
    assert refused.value.field == "owner_id"


async def test_an_unknown_forum_is_the_forum_fields_error(app: Commands, forum: Forum) -> None:
    command = making(forum, forum.member, forum_id=uuid.uuid4())
    with pytest.raises(InvalidValue) as refused:
        await commitments.make(app, as_leader(forum.member), command)
    assert refused.value.field == "forum_id"


async def test_a_purpose_of_another_forum_may_not_be_cited(app: Commands, forum: Forum) -> None:
    elsewhere = await new_forum(app, await new_leader(app, "Eve Stone"), forum.member)
    foreign = await new_purpose(app, elsewhere, forum.member)
    command = making(forum, forum.member, purpose_ids=(foreign,))
    with pytest.raises(InvalidValue) as refused:
        await commitments.make(app, as_leader(forum.member), command)
    # Refused as an unknown id is, so nothing tells the caller the purpose exists.
    reason = f"no such purpose: {foreign}"
    assert (refused.value.field, refused.value.reason) == ("purpose_ids", reason)


async def test_an_unknown_purpose_is_the_purpose_fields_error(app: Commands, forum: Forum) -> None:
    command = making(forum, forum.member, purpose_ids=(uuid.uuid4(),))
    with pytest.raises(InvalidValue) as refused:
        await commitments.make(app, as_leader(forum.member), command)
    assert refused.value.field == "purpose_ids"
