"""GET /audit/...: the served key, seals and proofs verify on the client, and bad asks are 4xx."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.testing import AsyncTestClient

from tests.audit.test_seals import append, leaves_from_events, sealed
from tests.eventstore.helpers import read_until
from tracker import tokens
from tracker.api.app import create_app
from tracker.api.dependencies import provide_principal
from tracker.api.openapi import finish
from tracker.api.resources.audit import READ_RULE, AuditController
from tracker.audit import merkle, seals
from tracker.audit.keys import SigningKey
from tracker.eventstore import EventStore
from tracker.settings import Settings


@pytest.fixture(scope="module")
async def audit_client(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The real app with the audit controller, registered here until app.py lists it."""
    data_dir: Path = tmp_path_factory.mktemp("data")
    # No background sealer here (once settings have one): these tests seal when they choose.
    quiet = {"seal_seconds": 0.0} if "seal_seconds" in Settings.__struct_fields__ else {}
    settings = Settings(
        database_url=database_url, data_dir=data_dir, pool_size=2, run_projections=False, **quiet
    )
    app = create_app(settings)
    if not any(route.path == "/audit/seals" for route in app.routes):
        app.register(AuditController)
    app.state.signing_key = SigningKey.generate()  # the lifespan replaces it once it loads one
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
async def client(
    audit_client: AsyncTestClient[Litestar], pool: asyncpg.Pool
) -> AsyncTestClient[Litestar]:
    """The client over freshly emptied tables."""
    return audit_client


@pytest.fixture
def key(audit_client: AsyncTestClient[Litestar]) -> SigningKey:
    """The key the app serves, which these tests seal with."""
    served: SigningKey = audit_client.app.state.signing_key
    return served


async def headers(pool: asyncpg.Pool, kind: str = "auditor") -> dict[str, str]:
    leader = uuid.uuid4() if kind == "leader" else None
    token = await tokens.issue(pool, f"test-{kind}", kind, leader)
    return {"Authorization": f"Bearer {token}"}


async def get(client: AsyncTestClient[Litestar], path: str, auth: dict[str, str]) -> Any:
    response = await client.get(path, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_served_public_key_verifies_the_served_seals(
    client: AsyncTestClient[Litestar], store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 3)
    await sealed(pool, key, 6)
    anyone = await headers(pool, "integration")
    served = await get(client, "/audit/public-key", anyone)
    assert served["algorithm"] == "Ed25519" and served["key_id"] == key.key_id
    public = load_pem_public_key(served["public_key_pem"].encode())
    assert isinstance(public, Ed25519PublicKey)
    seal = (await get(client, "/audit/seals", await headers(pool)))["items"][0]
    message = (
        seals.MESSAGE_PREFIX
        + (
            f'[{seal["tree_size"]},"{seal["root_hash"]}","{seal["sealed_at"]}","{seal["key_id"]}"]'
        ).encode()
    )
    public.verify(bytes.fromhex(seal["signature"]), message)
    again = await get(client, f"/audit/public-key?key_id={key.key_id}", anyone)
    assert again == served


async def test_seals_are_listed_newest_first_a_page_at_a_time(
    client: AsyncTestClient[Litestar], store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    for size in (2, 4, 6):
        await append(store, 1)
        await sealed(pool, key, size)
    auth = await headers(pool, "admin")
    first = await get(client, "/audit/seals?limit=2", auth)
    assert [s["tree_size"] for s in first["items"]] == [6, 4]
    rest = await get(client, f"/audit/seals?limit=2&before={first['next_before']}", auth)
    assert [s["tree_size"] for s in rest["items"]] == [2] and rest["next_before"] is None


async def test_served_inclusion_proofs_for_random_events_verify_against_the_served_seal(
    client: AsyncTestClient[Litestar], store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 20, per_stream=2)
    await sealed(pool, key, 60)
    events = await read_until(store, 60)
    leaves = await leaves_from_events(store, 60)
    auth = await headers(pool)
    for index in random.Random(7).sample(range(60), 15):
        proof = await get(
            client, f"/audit/proofs/inclusion?position={events[index].position}", auth
        )
        assert proof["leaf_index"] == index and proof["tree_size"] == 60
        assert bytes.fromhex(proof["leaf_hash"]) == leaves[index]
        head = bytes.fromhex(proof["seal"]["root_hash"])
        path = [bytes.fromhex(p) for p in proof["audit_path"]]
        assert merkle.verify_inclusion(leaves[index], index, 60, path, head)
    smaller = await get(
        client, f"/audit/proofs/inclusion?position={events[3].position}&tree_size=17", auth
    )
    assert smaller["seal"] is None  # no seal of that size, but the path still proves it
    path = [bytes.fromhex(p) for p in smaller["audit_path"]]
    assert merkle.verify_inclusion(leaves[3], 3, 17, path, merkle.root(leaves[:17]))


async def test_a_served_consistency_proof_links_two_served_seals(
    client: AsyncTestClient[Litestar], store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 3)
    await sealed(pool, key, 6)
    await append(store, 7, per_stream=3)
    await sealed(pool, key, 34)
    auth = await headers(pool)
    for query in ("from=6&to=34", "from=6"):
        proof = await get(client, f"/audit/proofs/consistency?{query}", auth)
        old = bytes.fromhex(proof["from_seal"]["root_hash"])
        new = bytes.fromhex(proof["to_seal"]["root_hash"])
        path = [bytes.fromhex(p) for p in proof["path"]]
        assert (proof["from_size"], proof["to_size"]) == (6, 34)
        assert merkle.verify_consistency(6, 34, old, new, path)


async def test_only_auditors_and_admins_read_seals_and_proofs(
    client: AsyncTestClient[Litestar], store: EventStore, pool: asyncpg.Pool, key: SigningKey
) -> None:
    await append(store, 1)
    await sealed(pool, key, 2)
    paths = (
        "/audit/seals",
        "/audit/proofs/inclusion?position=1",
        "/audit/proofs/consistency?from=1",
    )
    for kind in ("leader", "integration"):
        auth = await headers(pool, kind)
        for path in paths:
            response = await client.get(path, headers=auth)
            assert response.status_code == 403, path
            assert response.json()["rule"] == READ_RULE
    for path in (*paths, "/audit/public-key"):
        assert (await client.get(path)).status_code == 401


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/audit/proofs/inclusion", 400),  # position is required
        ("/audit/proofs/inclusion?position=abc", 422),
        ("/audit/proofs/inclusion?position=0", 422),
        ("/audit/proofs/inclusion?position=1&tree_size=0", 422),
        ("/audit/proofs/inclusion?position=999", 404),  # no such (sealed) event
        ("/audit/proofs/inclusion?position=1&tree_size=7", 404),  # beyond the sealed tree
        ("/audit/proofs/inclusion?position=LAST&tree_size=2", 422),  # not in that tree
        ("/audit/proofs/consistency", 400),
        ("/audit/proofs/consistency?from=0", 422),
        ("/audit/proofs/consistency?from=5&to=3", 422),
        ("/audit/proofs/consistency?from=2&to=9", 404),
        ("/audit/seals?limit=0", 422),
        ("/audit/seals?limit=501", 422),
        ("/audit/seals?before=x", 422),
        # Beyond what a bigint holds: refused, never sent to the database.
        ("/audit/proofs/inclusion?position=9223372036854775808", 422),
        ("/audit/proofs/consistency?from=1&to=9223372036854775808", 422),
        ("/audit/seals?before=9223372036854775808", 422),
        ("/audit/public-key?key_id=0000000000000000", 404),
        ("/audit/public-key?key_id=%00", 422),  # PostgreSQL refuses NUL in text
        ("/audit/public-key?key_id=not-a-key-id", 422),
    ],
)
async def test_bad_proof_requests_are_refused_with_problem_details(
    client: AsyncTestClient[Litestar],
    store: EventStore,
    pool: asyncpg.Pool,
    key: SigningKey,
    query: str,
    status: int,
) -> None:
    await append(store, 3)
    await sealed(pool, key, 6)
    last = (await read_until(store, 6))[-1].position
    response = await client.get(query.replace("LAST", str(last)), headers=await headers(pool))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/audit/proofs/consistency?from=0", "from"),
        ("/audit/proofs/consistency?from=1&to=0", "to"),
        ("/audit/proofs/inclusion?position=1&tree_size=x", "tree_size"),
    ],
)
async def test_a_refused_parameter_is_named_as_the_client_sent_it(
    client: AsyncTestClient[Litestar], pool: asyncpg.Pool, query: str, field: str
) -> None:
    response = await client.get(query, headers=await headers(pool))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_proofs_before_the_first_seal_are_not_found(
    client: AsyncTestClient[Litestar], store: EventStore, pool: asyncpg.Pool
) -> None:
    await append(store, 1)
    auth = await headers(pool)
    for path in ("/audit/proofs/inclusion?position=1", "/audit/proofs/consistency?from=1"):
        response = await client.get(path, headers=auth)
        assert response.status_code == 404 and "nothing has been sealed" in response.text
    assert (await get(client, "/audit/seals", auth)) == {"items": [], "next_before": None}


def test_every_audit_operation_has_an_id_a_summary_errors_and_examples() -> None:
    app = Litestar(
        [AuditController],
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        openapi_config=OpenAPIConfig(title="audit", version="1"),
    )
    finish(app.openapi_schema, set())
    document = msgspec.json.decode(msgspec.json.encode(app.openapi_schema.to_schema()))
    operations = [item["get"] for item in document["paths"].values()]
    assert len(operations) == 4
    for op in operations:
        assert op["operationId"] and op["summary"], op
        assert "401" in op["responses"] and "422" in op["responses"], op["operationId"]
        for response in op["responses"].values():
            for media in response.get("content", {}).values():
                assert media.get("examples"), op["operationId"]
