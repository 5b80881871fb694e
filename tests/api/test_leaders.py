"""The leaders API: register, read, affiliations, details corrections, deactivation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import seed_world
from tracker.application.ports import Context
from tracker.domain import Leader, Organisation
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
SEEDER = Context(actor="system:test-seed")


async def events(pool: asyncpg.Pool) -> int:
    """How many events the store holds."""
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def refused_by(
    client: Client, pool: asyncpg.Pool, path: str, status: int, **kwargs: Any
) -> dict[str, Any]:
    """Post, expect a refusal with the status, and check nothing was written."""
    before = await events(pool)
    r = await client.post(path, **kwargs)
    assert r.status_code == status, r.text
    assert await events(pool) == before
    problem: dict[str, Any] = r.json()
    return problem


async def seeded(repository: Repository) -> tuple[Leader, Organisation]:
    """Amina, affiliated with Northshire Council since 2020, and a second organisation."""
    world = await seed_world(repository, members=("amina",))
    other = Organisation.register(uuid.uuid4(), "Northshire Housing", "housing")
    await repository.save(other, context=SEEDER)
    return world.leaders["amina"], other


async def deactivated(repository: Repository) -> Leader:
    leader = Leader.register(uuid.uuid4(), "Dev", None)
    leader.deactivate("moved away")
    await repository.save(leader, context=SEEDER)
    return leader


async def test_an_admin_registers_a_leader_and_reads_them_back(
    client: Client, issue: Tokens
) -> None:
    admin = await issue.headers("admin")
    body = {"name": "Amina Okafor", "email": "amina@example.org"}
    r = await client.post("/leaders", json=body, headers=admin)
    assert r.status_code == 201, r.text
    lid = r.json()["stream_id"]
    assert r.headers["location"] == f"/leaders/{lid}"
    got = await client.get(f"/leaders/{lid}", headers=await issue.headers("auditor"))
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    assert {k: got.json()[k] for k in ("id", "name", "email", "status", "affiliations")} == {
        "id": lid,
        "name": "Amina Okafor",
        "email": "amina@example.org",
        "status": "active",
        "affiliations": [],
    }


async def test_registering_a_leader_needs_a_valid_token_and_an_admin(
    client: Client, issue: Tokens, pool: asyncpg.Pool
) -> None:
    body = {"name": "Amina Okafor"}
    await refused_by(client, pool, "/leaders", 401, json=body)
    bad = {"Authorization": "Bearer nope"}
    await refused_by(client, pool, "/leaders", 401, json=body, headers=bad)
    for headers in (
        await issue.headers("leader", uuid.uuid4()),
        await issue.headers("integration"),
        await issue.headers("auditor"),
    ):
        problem = await refused_by(client, pool, "/leaders", 403, json=body, headers=headers)
        assert problem["rule"] == "only-admins-can-register-leaders"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Amina", "title": "Director"}, "title"),
        ({"name": "A" * 201}, "name"),
        ({"name": ["Amina"]}, "name"),
        ({"name": " "}, "name"),
        ({"name": "Amina", "email": "not-an-email"}, "email"),
        ({"name": "Amina", "email": "a@" + "b" * 320}, "email"),
    ],
)
async def test_registering_a_leader_refuses_an_invalid_field_by_name(
    client: Client, issue: Tokens, pool: asyncpg.Pool, body: dict[str, Any], field: str
) -> None:
    headers = await issue.headers("admin")
    problem = await refused_by(client, pool, "/leaders", 422, json=body, headers=headers)
    assert problem["errors"][0]["field"] == field


async def test_a_retried_leader_registration_with_the_same_idempotency_key_registers_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool
) -> None:
    headers = await issue.headers("admin") | {"Idempotency-Key": "leader-1"}
    first = await client.post("/leaders", json={"name": "Amina"}, headers=headers)
    again = await client.post("/leaders", json={"name": "Amina"}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == 1


async def test_a_leader_registration_with_the_same_external_reference_registers_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool
) -> None:
    body = {"name": "Amina", "source_system": "hr", "external_id": "E-42"}
    hr = await issue.headers("admin", name="hr")
    first = await client.post("/leaders", json=body, headers=hr)
    again = await client.post("/leaders", json=body, headers=hr)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == 1


async def test_reading_a_leader_needs_a_token_and_an_existing_id(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    amina, _ = await seeded(repository)
    assert (await client.get(f"/leaders/{amina.id}")).status_code == 401
    missing = await client.get(f"/leaders/{uuid.uuid4()}", headers=await issue.headers("admin"))
    assert missing.status_code == 404


async def test_a_leader_records_and_ends_their_own_affiliation(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    amina, housing = await seeded(repository)
    as_amina = await issue.headers("leader", amina.id)
    start = {"organisation_id": str(housing.id), "title": "Chair", "from_on": "2024-04-01"}
    r = await client.post(f"/leaders/{amina.id}/affiliations", json=start, headers=as_amina)
    assert r.status_code == 200, r.text
    end = {"organisation_id": str(housing.id), "to_on": "2025-03-31"}
    r = await client.post(f"/leaders/{amina.id}/affiliation-endings", json=end, headers=as_amina)
    assert r.status_code == 200, r.text
    got = await client.get(f"/leaders/{amina.id}", headers=as_amina)
    assert got.headers["etag"] == '"4"'
    assert got.json()["affiliations"][1:] == [
        {
            "organisation_id": str(housing.id),
            "title": "Chair",
            "from_on": "2024-04-01",
            "to_on": "2025-03-31",
        }
    ]
    assert got.json()["affiliations"][0]["to_on"] is None


async def test_an_admin_records_an_affiliation_for_a_leader(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    amina, housing = await seeded(repository)
    start = {"organisation_id": str(housing.id), "title": "Chair", "from_on": "2024-04-01"}
    headers = await issue.headers("admin") | {"If-Match": '"2"'}
    r = await client.post(f"/leaders/{amina.id}/affiliations", json=start, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3


async def test_recording_an_affiliation_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    amina, housing = await seeded(repository)
    path, admin = f"/leaders/{amina.id}/affiliations", await issue.headers("admin")
    start = {"organisation_id": str(housing.id), "title": "Chair", "from_on": "2024-04-01"}
    await refused_by(client, pool, path, 401, json=start)
    for kind, rule in [
        ("leader", "only-admins-or-the-leader-can-record-affiliations"),
        ("integration", "only-admins-or-the-leader-can-record-affiliations"),
        ("auditor", "auditors-only-read"),
    ]:
        headers = await issue.headers(kind, uuid.uuid4() if kind == "leader" else None)
        problem = await refused_by(client, pool, path, 403, json=start, headers=headers)
        assert problem["rule"] == rule
    unknown = f"/leaders/{uuid.uuid4()}/affiliations"
    await refused_by(client, pool, unknown, 404, json=start, headers=admin)
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=start, headers=stale)
    assert problem["current_version"] == 2
    council_id = amina.affiliations[0].organisation_id
    for bad, field in [
        (start | {"organisation_id": str(uuid.uuid4())}, "organisation_id"),
        (start | {"organisation_id": str(amina.id)}, "organisation_id"),
        (start | {"organisation_id": str(council_id), "title": " director"}, "title"),
        (start | {"title": "  "}, "title"),
        (start | {"title": "T" * 201}, "title"),
        (start | {"from_on": "last spring"}, "from_on"),
        (start | {"rank": "senior"}, "rank"),
    ]:
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == field


async def test_a_leader_holds_two_roles_in_one_organisation_and_ends_one_by_its_title(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    amina, _ = await seeded(repository)
    council = str(amina.affiliations[0].organisation_id)
    as_amina = await issue.headers("leader", amina.id)
    path = f"/leaders/{amina.id}"
    second = {"organisation_id": council, "title": "Clinical director", "from_on": "2024-04-01"}
    r = await client.post(f"{path}/affiliations", json=second, headers=as_amina)
    assert r.status_code == 200, r.text
    end = {"organisation_id": council, "to_on": "2025-03-31"}
    problem = await refused_by(
        client, pool, f"{path}/affiliation-endings", 422, json=end, headers=as_amina
    )
    assert problem["errors"][0]["field"] == "title"
    assert "Clinical director, Director" in problem["errors"][0]["message"]
    unknown_role = end | {"title": "Chair"}
    problem = await refused_by(
        client, pool, f"{path}/affiliation-endings", 422, json=unknown_role, headers=as_amina
    )
    assert problem["errors"][0]["field"] == "title"
    named = end | {"title": "clinical director"}
    r = await client.post(f"{path}/affiliation-endings", json=named, headers=as_amina)
    assert r.status_code == 200, r.text
    got = (await client.get(path, headers=as_amina)).json()["affiliations"]
    assert [(a["title"], a["to_on"]) for a in got] == [
        ("Director", None),
        ("Clinical director", "2025-03-31"),
    ]
    # One current role again: an ending that names no title is unambiguous, as it always was.
    r = await client.post(f"{path}/affiliation-endings", json=end, headers=as_amina)
    assert r.status_code == 200, r.text


async def test_a_deactivated_leader_cannot_gain_or_end_affiliations(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    _, housing = await seeded(repository)
    dev = await deactivated(repository)
    admin = await issue.headers("admin")
    start = {"organisation_id": str(housing.id), "title": "Chair", "from_on": "2024-04-01"}
    problem = await refused_by(
        client, pool, f"/leaders/{dev.id}/affiliations", 409, json=start, headers=admin
    )
    assert problem["current_state"] == "deactivated"
    end = {"organisation_id": str(housing.id), "to_on": "2025-03-31"}
    problem = await refused_by(
        client, pool, f"/leaders/{dev.id}/affiliation-endings", 409, json=end, headers=admin
    )
    assert problem["current_state"] == "deactivated" and problem["command"] == "end_affiliation"


async def test_ending_an_affiliation_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    amina, housing = await seeded(repository)
    council_id = amina.affiliations[0].organisation_id
    path, admin = f"/leaders/{amina.id}/affiliation-endings", await issue.headers("admin")
    end = {"organisation_id": str(council_id), "to_on": "2025-03-31"}
    await refused_by(client, pool, path, 401, json=end)
    other = await issue.headers("leader", uuid.uuid4())
    problem = await refused_by(client, pool, path, 403, json=end, headers=other)
    assert problem["rule"] == "only-admins-or-the-leader-can-end-affiliations"
    unknown = f"/leaders/{uuid.uuid4()}/affiliation-endings"
    await refused_by(client, pool, unknown, 404, json=end, headers=admin)
    problem = await refused_by(
        client, pool, path, 412, json=end, headers=admin | {"If-Match": '"99"'}
    )
    assert problem["current_version"] == 2
    for bad, field in [
        (end | {"organisation_id": str(housing.id)}, "organisation_id"),
        (end | {"to_on": str(date(2019, 12, 31))}, "to_on"),
        (end | {"to_on": 20250331}, "to_on"),
        ({"to_on": "2025-03-31"}, "organisation_id"),
    ]:
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == field


async def test_a_leader_corrects_their_name_keeping_their_email_then_clears_the_email(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    amina, _ = await seeded(repository)
    path, as_amina = (
        f"/leaders/{amina.id}/details-corrections",
        await issue.headers("leader", amina.id),
    )
    r = await client.post(path, json={"name": "Amina Okafor"}, headers=as_amina)
    assert r.status_code == 200, r.text
    got = (await client.get(f"/leaders/{amina.id}", headers=as_amina)).json()
    assert (got["name"], got["email"]) == ("Amina Okafor", "amina@example.org")
    r = await client.post(path, json={"name": "Amina Okafor", "email": None}, headers=as_amina)
    assert r.status_code == 200, r.text
    got = (await client.get(f"/leaders/{amina.id}", headers=as_amina)).json()
    assert (got["name"], got["email"], got["version"]) == ("Amina Okafor", None, 4)


async def test_correcting_details_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    amina, _ = await seeded(repository)
    dev = await deactivated(repository)
    path, admin = f"/leaders/{amina.id}/details-corrections", await issue.headers("admin")
    body = {"name": "Amina Okafor"}
    await refused_by(client, pool, path, 401, json=body)
    eve = Leader.register(uuid.uuid4(), "Eve", None)
    await repository.save(eve, context=SEEDER)
    other = await issue.headers("leader", eve.id)
    problem = await refused_by(client, pool, path, 403, json=body, headers=other)
    assert problem["rule"] == "only-admins-or-the-leader-can-correct-details"
    unknown = f"/leaders/{uuid.uuid4()}/details-corrections"
    await refused_by(client, pool, unknown, 404, json=body, headers=admin)
    problem = await refused_by(
        client, pool, path, 412, json=body, headers=admin | {"If-Match": '"99"'}
    )
    assert problem["current_version"] == 2
    dev_path = f"/leaders/{dev.id}/details-corrections"
    problem = await refused_by(client, pool, dev_path, 409, json=body, headers=admin)
    assert problem["current_state"] == "deactivated"
    as_dev = await issue.headers("leader", dev.id)
    problem = await refused_by(client, pool, dev_path, 403, json=body, headers=as_dev)
    assert problem["rule"] == "deactivated-leaders-cannot-act"
    for bad, field in [
        ({"name": "Amina"}, "name"),
        ({"name": "Amina", "email": "amina@example.org"}, "name"),
        ({"name": "Amina", "email": "amina at example.org"}, "email"),
        ({"name": "N" * 201}, "name"),
        ({"email": "amina@example.org"}, "name"),
    ]:
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == field


async def test_an_admin_deactivates_a_leader_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    amina, _ = await seeded(repository)
    path, admin = f"/leaders/{amina.id}/deactivation", await issue.headers("admin")
    r = await client.post(path, json={"reason": "Retired"}, headers=admin)
    assert r.status_code == 200, r.text
    got = await client.get(f"/leaders/{amina.id}", headers=admin)
    assert got.json()["status"] == "deactivated" and got.headers["etag"] == '"3"'
    problem = await refused_by(client, pool, path, 409, json={}, headers=admin)
    assert problem["current_state"] == "deactivated" and problem["command"] == "deactivate"


async def test_deactivation_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, repository: Repository
) -> None:
    amina, _ = await seeded(repository)
    path, admin = f"/leaders/{amina.id}/deactivation", await issue.headers("admin")
    await refused_by(client, pool, path, 401, json={})
    themselves = await issue.headers("leader", amina.id)
    problem = await refused_by(client, pool, path, 403, json={}, headers=themselves)
    assert problem["rule"] == "only-admins-can-deactivate-leaders"
    unknown = f"/leaders/{uuid.uuid4()}/deactivation"
    await refused_by(client, pool, unknown, 404, json={}, headers=admin)
    problem = await refused_by(
        client, pool, path, 412, json={}, headers=admin | {"If-Match": '"99"'}
    )
    assert problem["current_version"] == 2
    for bad, field in [({"reason": "r" * 4001}, "reason"), ({"note": "x"}, "note")]:
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == field
