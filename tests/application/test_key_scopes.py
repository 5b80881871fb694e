"""Retry keys belong to their sender, external references to their system: none cross callers."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec
import pytest

from tests.application.conftest import Forum, caller
from tests.application.test_minutes import line, scheduled
from tests.clock import Clock
from tracker.application import purposes
from tracker.application.commands import Commands, Request
from tracker.application.errors import IdempotencyKeyReused
from tracker.application.external import EXTERNAL_IDS, creation_id
from tracker.application.minutes import TakeMinutes, take_minutes
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal
from tracker.application.purposes import ProposePurpose
from tracker.domain import InvalidValue

BODY = b"POST /purposes {same body}"


def keyed(principal: Principal, key: str, fingerprint: bytes = BODY) -> Request:
    """A request with a retry key and a fingerprint of what was sent."""
    return Request(principal=principal, idempotency_key=key, fingerprint=fingerprint)


def system(name: str, kind: str = INTEGRATION) -> Principal:
    """A token named after the system it records for."""
    return msgspec.structs.replace(caller(kind), name=name)


async def propose(app: Commands, call: Request, forum: Forum) -> tuple[UUID, bool]:
    """Propose a purpose under the call's key; the id it was saved under, and if replayed."""
    purpose_id, call = creation_id(call, None, None, None)
    command = ProposePurpose(purpose_id=purpose_id, forum_id=forum.id, statement="Warm hubs")
    saved = await purposes.propose(app, call, command)
    return purpose_id, saved.replayed


@pytest.mark.parametrize("key", ["winter-1", "external:minutes-tool:item-3"])
async def test_two_leaders_sending_one_key_and_body_each_have_their_command_recorded(
    app: Commands, forum: Forum, key: str
) -> None:
    ben, chloe = caller(LEADER, forum.member), caller(LEADER, forum.other_member)
    first, first_replayed = await propose(app, keyed(ben, key), forum)
    second, second_replayed = await propose(app, keyed(chloe, key), forum)
    assert first != second
    assert not first_replayed and not second_replayed


async def test_a_retry_by_the_same_leader_replays_from_any_of_their_tokens(
    app: Commands, forum: Forum
) -> None:
    first, _ = await propose(app, keyed(caller(LEADER, forum.member), "winter-1"), forum)
    again, replayed = await propose(app, keyed(caller(LEADER, forum.member), "winter-1"), forum)
    assert (again, replayed) == (first, True)


async def test_a_retry_by_the_same_token_replays_and_another_token_is_another_caller(
    app: Commands, forum: Forum
) -> None:
    recorder = caller(INTEGRATION)
    on_behalf = msgspec.structs.replace(recorder, on_behalf_of=forum.member)
    first, _ = await propose(app, keyed(on_behalf, "k"), forum)
    assert await propose(app, keyed(on_behalf, "k"), forum) == (first, True)
    other = msgspec.structs.replace(caller(INTEGRATION), on_behalf_of=forum.member)
    assert (await propose(app, keyed(other, "k"), forum))[1] is False


async def test_a_key_reused_for_another_request_is_refused_only_to_its_sender(
    app: Commands, forum: Forum
) -> None:
    ben = caller(LEADER, forum.member)
    await propose(app, keyed(ben, "winter-1"), forum)
    with pytest.raises(IdempotencyKeyReused) as refused:
        await propose(app, keyed(ben, "winter-1", b"another body"), forum)
    # The refusal names the key as sent, not the scope it is stored under.
    assert refused.value.key == "winter-1" and str(forum.member) not in str(refused.value)
    chloe = caller(LEADER, forum.other_member)
    _, replayed = await propose(app, keyed(chloe, "winter-1", b"another body"), forum)
    assert replayed is False


def test_a_client_key_never_takes_the_form_of_an_external_reference() -> None:
    crm = system("crm")
    sent = keyed(crm, "external:crm:X")
    _, owned = creation_id(Request(principal=crm), None, "crm", "X")
    assert owned.key == "external:crm:X"
    assert sent.key == f"{crm.token_id}:external:crm:X"


@pytest.mark.parametrize(
    "principal",
    [
        caller(LEADER, uuid.uuid4()),
        system("other-tool"),
        system("crm", AUDITOR),
        system("test-admin", ADMIN),
        msgspec.structs.replace(caller(LEADER, uuid.uuid4()), name="crm"),
    ],
)
def test_only_a_token_named_after_a_source_system_creates_under_it(principal: Principal) -> None:
    with pytest.raises(InvalidValue) as refused:
        creation_id(Request(principal=principal), None, "crm", "X")
    assert refused.value.field == "source_system"


@pytest.mark.parametrize("kind", [INTEGRATION, ADMIN])
def test_the_system_named_creates_under_its_references(kind: str) -> None:
    derived = uuid.uuid5(EXTERNAL_IDS, "crm:X")
    new_id, call = creation_id(Request(principal=system("crm", kind)), derived, "crm", "X")
    assert (new_id, call.key, call.shown_key) == (derived, "external:crm:X", "crm:X")


def test_a_chosen_id_may_not_be_one_the_tracker_derives() -> None:
    ben = Request(principal=caller(LEADER, uuid.uuid4()))
    with pytest.raises(InvalidValue) as refused:
        creation_id(ben, uuid.uuid5(EXTERNAL_IDS, "crm:X"), None, None)
    assert refused.value.field == "id"
    chosen = uuid.uuid4()
    assert creation_id(ben, chosen, None, None)[0] == chosen


async def test_minutes_under_another_systems_source_system_are_refused(
    app: Commands, forum: Forum, clock: Clock
) -> None:
    meeting_id = await scheduled(app, forum, clock)
    made = line(forum, forum.member, "item-1")
    minutes = TakeMinutes(meeting_id=meeting_id, commitments=(made,), source_system="crm")
    with pytest.raises(InvalidValue) as refused:
        await take_minutes(app, Request(principal=system("other-tool")), minutes)
    assert refused.value.field == "source_system"
    saved = await take_minutes(app, Request(principal=system("crm")), minutes)
    assert not saved.replayed
