"""Who may read what: the access decisions of the views, made by the application."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

import msgspec
import pytest

from tests.application.conftest import caller
from tracker.application import reads
from tracker.application.errors import NotFound
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER
from tracker.domain import NotAllowed

FORUM = uuid.uuid4()
MEMBER = uuid.uuid4()


async def members(forum_id: UUID) -> Sequence[UUID]:
    return [MEMBER] if forum_id == FORUM else []


def test_auditors_and_admins_see_every_forum() -> None:
    assert reads.visible(caller(AUDITOR)) == reads.Visibility()
    assert reads.visible(caller(ADMIN)) == reads.Visibility()


def test_a_leader_sees_the_forums_they_belong_to() -> None:
    assert reads.visible(caller(LEADER, MEMBER)) == reads.Visibility(member=MEMBER)


def test_an_integration_sees_the_forums_its_token_is_limited_to() -> None:
    limited = msgspec.structs.replace(caller(INTEGRATION), forum_ids=(FORUM,))
    assert reads.visible(limited) == reads.Visibility(forum_ids=(FORUM,))
    assert reads.visible(caller(INTEGRATION)) == reads.Visibility()


UNKNOWN = NotFound("forum", FORUM)


async def test_a_member_may_view_the_forum_and_to_an_outsider_it_is_unknown() -> None:
    await reads.require_forum_view(members, caller(LEADER, MEMBER), FORUM, UNKNOWN)
    with pytest.raises(NotFound) as refused:
        await reads.require_forum_view(members, caller(LEADER, uuid.uuid4()), FORUM, UNKNOWN)
    assert refused.value is UNKNOWN


def test_a_view_that_knows_the_callers_membership_is_judged_by_it() -> None:
    reads.require_view(caller(LEADER, MEMBER), FORUM, True, UNKNOWN)
    with pytest.raises(NotFound):
        reads.require_view(caller(LEADER, MEMBER), FORUM, False, UNKNOWN)
    reads.require_view(caller(AUDITOR), FORUM, False, UNKNOWN)


def test_the_log_is_for_auditors_and_admins() -> None:
    reads.require_log_reader(caller(AUDITOR), "rule")
    reads.require_log_reader(caller(ADMIN), "rule")
    with pytest.raises(NotAllowed):
        reads.require_log_reader(caller(LEADER, MEMBER), "rule")
