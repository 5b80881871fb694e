"""A first walk through the commitments API, seeding the forum directly through the domain."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tracker.domain import Forum, Purpose
from tracker.eventstore.repository import Repository


async def test_make_accept_and_read_a_commitment(
    client: AsyncTestClient[Litestar], issue: Tokens, repository: Repository
) -> None:
    amina, ben = uuid.uuid4(), uuid.uuid4()
    forum = Forum.convene(uuid.uuid4(), "Warm spaces", amina)
    forum.join(ben)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Nobody is cold this winter", amina)
    from tracker.application.ports import Context

    await repository.save(forum, purpose, context=Context(actor="system:test"))
    as_amina = await issue.headers("leader", amina)
    as_ben = await issue.headers("leader", ben)
    r = await client.post(
        "/commitments",
        json={
            "forum_id": str(forum.id),
            "owner_id": str(ben),
            "description": "Open the library",
            "purpose_ids": [str(purpose.id)],
        },
        headers=as_amina | {"Idempotency-Key": "a1"},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["stream_id"]
    again = await client.post(
        "/commitments",
        json={
            "forum_id": str(forum.id),
            "owner_id": str(ben),
            "description": "Open the library",
            "purpose_ids": [str(purpose.id)],
        },
        headers=as_amina | {"Idempotency-Key": "a1"},
    )
    assert again.status_code == 201 and again.json()["stream_id"] == cid
    assert again.headers["idempotent-replayed"] == "true"
    got = await client.get(f"/commitments/{cid}", headers=as_ben)
    assert got.json()["status"] == "proposed" and got.headers["etag"] == '"1"'
    refused = await client.post(f"/commitments/{cid}/acceptance", headers=as_amina)
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "only-owner-can-accept"
    stale = await client.post(
        f"/commitments/{cid}/acceptance", headers=as_ben | {"If-Match": '"7"'}
    )
    assert stale.status_code == 412 and stale.json()["current_version"] == 1
    ok = await client.post(f"/commitments/{cid}/acceptance", headers=as_ben | {"If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    again = await client.post(f"/commitments/{cid}/acceptance", headers=as_ben)
    assert again.status_code == 409 and again.json()["current_state"] == "active", again.text
    bad = await client.post(
        f"/commitments/{cid}/progress-reports", json={"percent": 101, "x": 1}, headers=as_ben
    )
    assert bad.status_code == 422, bad.text
    print(bad.json())
    none = await client.get(f"/commitments/{cid}")
    assert none.status_code == 401
    print(none.json(), none.headers)
