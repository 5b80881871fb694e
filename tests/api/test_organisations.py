"""The organisations API: register, read, rename, record a successor, archive."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tracker.application.ports import Context
from tracker.domain import Organisation
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
SEEDER = Context(actor="system:test-seed")


async def events(pool: asyncpg.Pool) -> int:
    """How many events the store holds."""
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def seed(repository: Repository, *organisations: Organisation) -> None:
    await repository.save(*organisations, context=SEEDER)


def council(name: str = "Northshire Council") -> Organisation:
    return Organisation.register(uuid.uuid4(), name, "council")


async def refused_by(
    client: Client, pool: asyncpg.Pool, path: str, status: int, **kwargs: Any
) -> dict[str, Any]:
    """Post, expect a refusal with the status, and check nothing was written."""
    before = await events(pool)
    r = await client.post(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await events(pool) == before
    problem: dict[str, Any] = r.json()
    return problem


async def test_an_admin_registers_an_organisation_and_reads_it_back(
    client: Client, issue: Tokens
) -> None:
    admin = await issue.headers("admin")
    r = await client.post(
        "/organisations", json={"name": "NHS Northshire", "kind": "nhs"}, headers=admin
    )
    assert r.status_code == 201, r.text
    oid = r.json()["stream_id"]
    assert r.headers["location"] == f"/organisations/{oid}"
    assert r.json()["version"] == 1
    got = await client.get(f"/organisations/{oid}", headers=await issue.headers("auditor"))
    assert got.status_code == 200, got.text
    assert got.headers["etag"] == '"1"'
    assert got.json() | {"created_on": None, "modified_on": None} == {
        "id": oid,
        "version": 1,
        "name": "NHS Northshire",
        "kind": "nhs",
        "status": "active",
        "successor_id": None,
        "created_on": None,
        "modified_on": None,
    }


async def test_registering_needs_a_valid_bearer_token(client: Client, pool: asyncpg.Pool) -> None:
    body = {"name": "Northshire Council", "kind": "council"}
    await refused_by(client, pool, "/organisations", 401, json=body)
    bad = {"Authorization": "Bearer not-a-token"}
    await refused_by(client, pool, "/organisations", 401, json=body, headers=bad)


@pytest.mark.parametrize("kind", ["auditor", "integration", "leader"])
async def test_only_admins_register_organisations(
    client: Client, issue: Tokens, pool: asyncpg.Pool, kind: str
) -> None:
    headers = await issue.headers(kind, uuid.uuid4() if kind == "leader" else None)
    body = {"name": "Northshire Council", "kind": "council"}
    problem = await refused_by(client, pool, "/organisations", 403, json=body, headers=headers)
    assert problem["rule"] == "only-admins-can-register-organisations"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Northshire Council", "kind": "council", "colour": "red"}, "colour"),
        ({"name": "N" * 201, "kind": "council"}, "name"),
        ({"name": 42, "kind": "council"}, "name"),
        ({"name": "   ", "kind": "council"}, "name"),
        ({"name": "Northshire Council", "kind": "church"}, "kind"),
        ({"kind": "council"}, "name"),
        ({"name": "Northshire Council", "kind": "council", "source_system": "crm"}, "external_id"),
    ],
)
async def test_registering_refuses_an_invalid_field_by_name(
    client: Client, issue: Tokens, pool: asyncpg.Pool, body: dict[str, Any], field: str
) -> None:
    headers = await issue.headers("admin")
    problem = await refused_by(client, pool, "/organisations", 422, json=body, headers=headers)
    assert problem["errors"][0]["field"] == field


async def test_a_retried_registration_with_the_same_idempotency_key_registers_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool
) -> None:
    headers = await issue.headers("admin") | {"Idempotency-Key": "org-1"}
    body = {"name": "Northshire Council", "kind": "council"}
    first = await client.post("/organisations", json=body, headers=headers)
    assert first.status_code == 201, first.text
    written = await events(pool)
    again = await client.post("/organisations", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == written == 1


async def test_a_registration_with_the_same_external_reference_registers_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool
) -> None:
    body = {"name": "Northshire Council", "kind": "council"}
    body |= {"source_system": "crm", "external_id": "ORG-7"}
    crm = await issue.headers("admin", name="crm")
    first = await client.post("/organisations", json=body, headers=crm)
    assert first.status_code == 201, first.text
    again = await client.post("/organisations", json=body, headers=crm)
    assert again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == 1


async def test_reading_an_organisation_needs_a_token_and_an_existing_id(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    org = council()
    await seed(repository, org)
    assert (await client.get(f"/organisations/{org.id}")).status_code == 401
    missing = await client.get(
        f"/organisations/{uuid.uuid4()}", headers=await issue.headers("admin")
    )
    assert missing.status_code == 404, missing.text


async def test_an_admin_renames_an_organisation(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    org = council()
    await seed(repository, org)
    admin = await issue.headers("admin") | {"If-Match": '"1"'}
    r = await client.post(
        f"/organisations/{org.id}/renaming", json={"name": "Northshire Unitary"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    got = await client.get(f"/organisations/{org.id}", headers=admin)
    assert got.json()["name"] == "Northshire Unitary" and got.headers["etag"] == '"2"'


async def test_renaming_is_refused_to_non_admins_unknown_ids_stale_versions_and_bad_names(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    org = council()
    await seed(repository, org)
    path, admin = f"/organisations/{org.id}/renaming", await issue.headers("admin")
    body = {"name": "Northshire Unitary"}
    await refused_by(client, pool, path, 401, json=body)
    leader = await issue.headers("leader", uuid.uuid4())
    problem = await refused_by(client, pool, path, 403, json=body, headers=leader)
    assert problem["rule"] == "only-admins-can-rename-organisations"
    unknown = f"/organisations/{uuid.uuid4()}/renaming"
    await refused_by(client, pool, unknown, 404, json=body, headers=admin)
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=body, headers=stale)
    assert problem["current_version"] == 1
    for bad in ({"name": "N" * 201}, {"name": "Northshire Council"}, {"name": None}, {}):
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == "name"


async def test_an_archived_organisation_cannot_be_renamed(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    org = council()
    org.archive("merged")
    await seed(repository, org)
    path = f"/organisations/{org.id}/renaming"
    headers = await issue.headers("admin")
    problem = await refused_by(client, pool, path, 409, json={"name": "New"}, headers=headers)
    assert problem["current_state"] == "archived" and problem["command"] == "rename"


async def test_an_admin_records_a_successor_even_after_archiving(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    old, new = council("Westshire PCT"), council("Northshire ICB")
    old.archive("merged")
    await seed(repository, old, new)
    admin = await issue.headers("admin")
    r = await client.post(
        f"/organisations/{old.id}/successor", json={"successor_id": str(new.id)}, headers=admin
    )
    assert r.status_code == 200, r.text
    got = await client.get(f"/organisations/{old.id}", headers=admin)
    assert got.json()["successor_id"] == str(new.id) and got.json()["status"] == "archived"


async def test_a_successor_must_be_another_existing_organisation_without_a_loop(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    a, b, c = council("A"), council("B"), council("C")
    b.record_successor(c.id)
    c.record_successor(a.id)
    await seed(repository, a, b, c)
    path, admin = f"/organisations/{a.id}/successor", await issue.headers("admin")
    for successor in (uuid.uuid4(), a.id, b.id, "not-a-uuid"):
        body = {"successor_id": str(successor)}
        problem = await refused_by(client, pool, path, 422, json=body, headers=admin)
        assert problem["errors"][0]["field"] == "successor_id"


async def test_a_successor_is_recorded_once_by_an_admin_at_the_expected_version(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    a, b, c = council("A"), council("B"), council("C")
    a.record_successor(b.id)
    await seed(repository, a, b, c)
    path, admin = f"/organisations/{a.id}/successor", await issue.headers("admin")
    body = {"successor_id": str(c.id)}
    problem = await refused_by(client, pool, path, 422, json=body, headers=admin)
    assert problem["errors"][0]["message"] == "already recorded"
    auditor = await issue.headers("auditor")
    problem = await refused_by(client, pool, path, 403, json=body, headers=auditor)
    assert problem["rule"] == "only-admins-can-record-successors"
    path = f"/organisations/{b.id}/successor"
    problem = await refused_by(
        client, pool, path, 412, json=body, headers=admin | {"If-Match": '"99"'}
    )
    assert problem["current_version"] == 1
    unknown = f"/organisations/{uuid.uuid4()}/successor"
    await refused_by(client, pool, unknown, 404, json=body, headers=admin)


async def test_an_admin_archives_an_organisation_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    org = council()
    await seed(repository, org)
    path, admin = f"/organisations/{org.id}/archival", await issue.headers("admin")
    r = await client.post(path, json={"reason": "Merged into the ICB"}, headers=admin)
    assert r.status_code == 200, r.text
    got = await client.get(f"/organisations/{org.id}", headers=admin)
    assert got.json()["status"] == "archived" and got.headers["etag"] == '"2"'
    problem = await refused_by(client, pool, path, 409, json={}, headers=admin)
    assert problem["current_state"] == "archived" and problem["command"] == "archive"


async def test_archiving_is_refused_to_non_admins_unknown_ids_stale_versions_and_bad_reasons(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    org = council()
    await seed(repository, org)
    path, admin = f"/organisations/{org.id}/archival", await issue.headers("admin")
    await refused_by(client, pool, path, 401, json={})
    integration = await issue.headers("integration")
    problem = await refused_by(client, pool, path, 403, json={}, headers=integration)
    assert problem["rule"] == "only-admins-can-archive-organisations"
    unknown = f"/organisations/{uuid.uuid4()}/archival"
    await refused_by(client, pool, unknown, 404, json={}, headers=admin)
    problem = await refused_by(
        client, pool, path, 412, json={}, headers=admin | {"If-Match": '"99"'}
    )
    assert problem["current_version"] == 1
    for bad in ({"reason": "r" * 4001}, {"reason": 1}, {"why": "merged"}):
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == next(iter(bad))
