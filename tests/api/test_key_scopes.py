"""Over HTTP: a retry key is its sender's, an external reference its system's, and no answer
tells one caller about another's."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.api.conftest import Tokens
from tests.api.test_commitments import Party, events
from tests.api.test_commitments import party as party  # the fixture, asked for by name
from tracker.application.external import EXTERNAL_IDS


async def make(party: Party, by: dict[str, str], body: dict[str, Any], **headers: str) -> Any:
    """POST /commitments as this caller."""
    return await party.client.post("/commitments", json=body, headers=by | headers)


def reference() -> str:
    """An external id of its own: the app's aggregate cache outlives each test's tables."""
    return f"m-{uuid.uuid4()}"


def recorder(party: Party, name: str = "minutes-tool") -> dict[str, str]:
    """The minutes tool's token, recording for ben."""
    return party.h[name] | {"On-Behalf-Of": str(party.world.id("ben"))}


@pytest.mark.parametrize("key", ["minutes-42", "external:minutes-tool:m42-3"])
async def test_two_leaders_sending_one_key_and_body_each_have_their_command_recorded(
    party: Party, pool: asyncpg.Pool, key: str
) -> None:
    seeded = await events(pool)
    body = party.body("amina")
    ben = await make(party, party.h["ben"], body, **{"Idempotency-Key": key})
    chloe = await make(party, party.h["chloe"], body, **{"Idempotency-Key": key})
    assert ben.status_code == chloe.status_code == 201, chloe.text
    assert "idempotent-replayed" not in chloe.headers
    assert ben.json()["stream_id"] != chloe.json()["stream_id"]
    assert await events(pool) == seeded + 2
    requesters = [(await party.state(r.json()["stream_id"]))["requester_id"] for r in (ben, chloe)]
    assert requesters == [str(party.world.id("ben")), str(party.world.id("chloe"))]


async def test_a_leaders_retry_replays_from_any_of_their_tokens(
    party: Party, issue: Tokens, pool: asyncpg.Pool
) -> None:
    key = {"Idempotency-Key": "minutes-42"}
    first = await make(party, party.h["ben"], party.body("ben"), **key)
    written = await events(pool)
    new_token = await issue.headers("leader", party.world.id("ben"))
    again = await make(party, new_token, party.body("ben"), **key)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert await events(pool) == written


async def test_a_reused_key_is_refused_naming_it_as_sent_and_only_to_its_sender(
    party: Party, pool: asyncpg.Pool
) -> None:
    key = {"Idempotency-Key": "minutes-42"}
    await make(party, party.h["ben"], party.body("ben"), **key)
    other = party.body("ben", description="Another commitment")
    refused = await make(party, party.h["ben"], other, **key)
    assert refused.status_code == 422 and "idempotency-key-reused" in refused.json()["type"]
    assert "'minutes-42'" in refused.json()["detail"]
    assert str(party.world.id("ben")) not in refused.json()["detail"]
    # Another caller's same key is no key of theirs: its answer is that of a fresh key.
    chloe = await make(party, party.h["chloe"], party.body("chloe"), **key)
    assert chloe.status_code == 201 and "idempotent-replayed" not in chloe.headers


@pytest.mark.parametrize("by", ["ben", "admin", "auditor"])
async def test_only_the_token_named_after_a_source_system_creates_under_it(
    party: Party, pool: asyncpg.Pool, by: str
) -> None:
    ref = reference()
    body = party.body("ben", source_system="minutes-tool", external_id=ref)
    before = await events(pool)
    squat = await make(party, party.h[by], body)
    assert squat.status_code in (403, 422), squat.text
    if squat.status_code == 422:
        assert squat.json()["errors"][0]["field"] == "source_system"
    assert await events(pool) == before
    real = await make(party, recorder(party), body)
    assert real.status_code == 201 and "idempotent-replayed" not in real.headers
    assert real.json()["stream_id"] == str(uuid.uuid5(EXTERNAL_IDS, f"minutes-tool:{ref}"))


async def test_another_integration_cannot_create_under_the_minutes_tools_name(
    party: Party, issue: Tokens, pool: asyncpg.Pool
) -> None:
    party.h["crm"] = await issue.headers("integration", name="crm")
    body = party.body("ben", source_system="minutes-tool", external_id=reference())
    squat = await make(party, recorder(party, "crm"), body)
    assert squat.status_code == 422 and squat.json()["errors"][0]["field"] == "source_system"
    assert (await make(party, recorder(party), body)).status_code == 201


async def test_nobody_can_take_in_advance_the_id_a_reference_will_derive(
    party: Party, pool: asyncpg.Pool
) -> None:
    ref = reference()
    derived = uuid.uuid5(EXTERNAL_IDS, f"minutes-tool:{ref}")
    squat = await make(party, party.h["ben"], party.body("ben", id=str(derived)))
    assert squat.status_code == 422 and squat.json()["errors"][0]["field"] == "id"
    body = party.body("ben", source_system="minutes-tool", external_id=ref)
    real = await make(party, recorder(party), body | {"id": str(derived)})
    assert real.status_code == 201 and real.json()["stream_id"] == str(derived)


async def test_a_refusal_does_not_tell_whether_another_systems_reference_exists(
    party: Party, pool: asyncpg.Pool
) -> None:
    used = party.body("ben", source_system="minutes-tool", external_id=reference())
    assert (await make(party, recorder(party), used)).status_code == 201
    before = await events(pool)
    probe = {"description": "Something else"}
    taken = await make(party, party.h["ben"], used | probe)
    unused = party.body("ben", source_system="minutes-tool", external_id=reference())
    fresh = await make(party, party.h["ben"], unused | probe)
    assert taken.status_code == fresh.status_code == 422
    assert taken.json() == fresh.json()
    assert await events(pool) == before
