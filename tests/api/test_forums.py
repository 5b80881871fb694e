"""The forums API: convene, read, rename, members and stewards joining and leaving."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import World, seed_world
from tracker.application.ports import Context
from tracker.domain import Leader
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


@pytest.fixture
async def world(repository: Repository) -> World:
    """Amina convenes, Ben records, Chloe is a member, Dev is a leader outside the forum."""
    world = await seed_world(repository)
    assert world.forum is not None
    world.forum.appoint_steward(world.id("ben"), "recorder")
    dev = Leader.register(uuid.uuid4(), "Dev", None)
    world.leaders["dev"] = dev
    await repository.save(world.forum, dev, context=SEEDER)  # the forum is now at version 4
    return world


def forum_path(world: World, tail: str = "") -> str:
    assert world.forum is not None
    return f"/forums/{world.forum.id}{tail}"


async def as_(issue: Tokens, world: World, name: str) -> dict[str, str]:
    return await issue.headers("leader", world.id(name))


async def test_an_admin_convenes_a_forum_in_london_time_by_default(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    amina = Leader.register(uuid.uuid4(), "Amina", None)
    await repository.save(amina, context=SEEDER)
    body = {"name": "Warm spaces", "convenor_id": str(amina.id)}
    r = await client.post("/forums", json=body, headers=await issue.headers("admin"))
    assert r.status_code == 201, r.text
    fid = r.json()["stream_id"]
    assert r.headers["location"] == f"/forums/{fid}"
    got = await client.get(f"/forums/{fid}", headers=await issue.headers("auditor"))
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    view = got.json()
    assert (view["name"], view["timezone"], view["members"]) == (
        "Warm spaces",
        "Europe/London",
        [str(amina.id)],
    )
    assert view["stewards"] == [{"leader_id": str(amina.id), "roles": ["convenor"]}]


async def test_a_forum_can_meet_in_another_time_zone(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"name": "Twin towns", "convenor_id": str(world.id("ben"))}
    body["timezone"] = "America/New_York"
    r = await client.post("/forums", json=body, headers=await issue.headers("admin"))
    assert r.status_code == 201, r.text
    got = await client.get(f"/forums/{r.json()['stream_id']}", headers=await issue.headers("admin"))
    assert got.json()["timezone"] == "America/New_York"


async def test_convening_needs_a_valid_token_and_an_admin(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    body = {"name": "Warm spaces", "convenor_id": str(world.id("amina"))}
    await refused_by(client, pool, "/forums", 401, json=body)
    bad = {"Authorization": "Bearer nope"}
    await refused_by(client, pool, "/forums", 401, json=body, headers=bad)
    for headers in (
        await as_(issue, world, "amina"),
        await issue.headers("integration"),
        await issue.headers("auditor"),
    ):
        problem = await refused_by(client, pool, "/forums", 403, json=body, headers=headers)
        assert problem["rule"] == "only-admins-can-convene-forums"


async def test_convening_refuses_an_invalid_field_by_name(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World, repository: Repository
) -> None:
    gone = Leader.register(uuid.uuid4(), "Gone", None)
    gone.deactivate()
    await repository.save(gone, context=SEEDER)
    body = {"name": "Warm spaces", "convenor_id": str(world.id("amina"))}
    admin = await issue.headers("admin")
    for bad, field in [
        (body | {"convenor_id": str(uuid.uuid4())}, "convenor_id"),
        (body | {"convenor_id": forum_path(world).removeprefix("/forums/")}, "convenor_id"),
        (body | {"convenor_id": str(gone.id)}, "convenor_id"),
        (body | {"convenor_id": "amina"}, "convenor_id"),
        (body | {"timezone": "Mars/Olympus_Mons"}, "timezone"),
        (body | {"timezone": "../../etc/passwd"}, "timezone"),
        (body | {"timezone": "Europe/" + "L" * 64}, "timezone"),
        (body | {"name": "W" * 201}, "name"),
        (body | {"name": "   "}, "name"),
        (body | {"purpose": "warmth"}, "purpose"),
    ]:
        problem = await refused_by(client, pool, "/forums", 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == field


async def test_a_retried_convening_with_the_same_idempotency_key_convenes_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    body = {"name": "Warm spaces", "convenor_id": str(world.id("amina"))}
    headers = await issue.headers("admin") | {"Idempotency-Key": "forum-1"}
    first = await client.post("/forums", json=body, headers=headers)
    assert first.status_code == 201, first.text
    written = await events(pool)
    again = await client.post("/forums", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == written


async def test_a_convening_with_the_same_external_reference_convenes_once(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    body = {"name": "Warm spaces", "convenor_id": str(world.id("amina"))}
    body |= {"source_system": "minutes", "external_id": "F-1"}
    minutes = await issue.headers("admin", name="minutes")
    first = await client.post("/forums", json=body, headers=minutes)
    assert first.status_code == 201, first.text
    written = await events(pool)
    again = await client.post("/forums", json=body, headers=minutes)
    assert again.status_code == 201, again.text
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == written


async def test_reading_a_forum_needs_a_token_and_an_existing_id(
    client: Client, issue: Tokens, world: World
) -> None:
    assert (await client.get(forum_path(world))).status_code == 401
    missing = await client.get(f"/forums/{uuid.uuid4()}", headers=await issue.headers("admin"))
    assert missing.status_code == 404
    wrong_kind = await client.get(
        f"/forums/{world.id('amina')}", headers=await issue.headers("admin")
    )
    assert wrong_kind.status_code == 404


async def test_a_convenor_renames_the_forum(client: Client, issue: Tokens, world: World) -> None:
    headers = await as_(issue, world, "amina") | {"If-Match": '"4"'}
    r = await client.post(
        forum_path(world, "/renaming"), json={"name": "Warm homes"}, headers=headers
    )
    assert r.status_code == 200, r.text
    got = await client.get(forum_path(world), headers=headers)
    assert got.json()["name"] == "Warm homes" and got.headers["etag"] == '"5"'


async def test_renaming_a_forum_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    path, admin, body = forum_path(world, "/renaming"), await issue.headers("admin"), {"name": "X"}
    await refused_by(client, pool, path, 401, json=body)
    for headers, rule in [
        (await as_(issue, world, "ben"), "only-admins-or-convenors-can-rename-forums"),
        (await as_(issue, world, "chloe"), "only-admins-or-convenors-can-rename-forums"),
        (await issue.headers("integration"), "only-admins-or-convenors-can-rename-forums"),
        (await issue.headers("auditor"), "auditors-only-read"),
    ]:
        problem = await refused_by(client, pool, path, 403, json=body, headers=headers)
        assert problem["rule"] == rule
    await refused_by(
        client, pool, f"/forums/{uuid.uuid4()}/renaming", 404, json=body, headers=admin
    )
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=body, headers=stale)
    assert problem["current_version"] == 4
    for bad in ({"name": "Warm spaces partnership"}, {"name": "W" * 201}, {"name": 7}):
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == "name"


async def test_a_steward_admits_a_leader_as_a_member(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"leader_id": str(world.id("dev"))}
    r = await client.post(
        forum_path(world, "/members"), json=body, headers=await as_(issue, world, "ben")
    )
    assert r.status_code == 200, r.text
    got = await client.get(forum_path(world), headers=await issue.headers("admin"))
    assert str(world.id("dev")) in got.json()["members"] and len(got.json()["members"]) == 4


async def test_admitting_a_member_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World, repository: Repository
) -> None:
    gone = Leader.register(uuid.uuid4(), "Gone", None)
    gone.deactivate()
    await repository.save(gone, context=SEEDER)
    path, admin = forum_path(world, "/members"), await issue.headers("admin")
    body = {"leader_id": str(world.id("dev"))}
    await refused_by(client, pool, path, 401, json=body)
    problem = await refused_by(
        client, pool, path, 403, json=body, headers=await as_(issue, world, "chloe")
    )
    assert problem["rule"] == "only-admins-or-stewards-can-admit-members"
    # To a leader who is no member, the forum is an unknown id.
    await refused_by(client, pool, path, 404, json=body, headers=await as_(issue, world, "dev"))
    await refused_by(client, pool, f"/forums/{uuid.uuid4()}/members", 404, json=body, headers=admin)
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=body, headers=stale)
    assert problem["current_version"] == 4
    for leader_id in (uuid.uuid4(), gone.id, world.id("chloe"), "dev"):
        bad = {"leader_id": str(leader_id)}
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == "leader_id"


async def test_a_member_leaves_of_their_own_accord(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"leader_id": str(world.id("chloe"))}
    headers = await as_(issue, world, "chloe")
    r = await client.post(forum_path(world, "/member-departures"), json=body, headers=headers)
    assert r.status_code == 200, r.text
    # Having left, they no longer read the forum at all.
    assert (await client.get(forum_path(world), headers=headers)).status_code == 404
    got = await client.get(forum_path(world), headers=await as_(issue, world, "amina"))
    assert str(world.id("chloe")) not in got.json()["members"]


async def test_a_steward_records_that_a_member_left(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"leader_id": str(world.id("chloe"))}
    headers = await as_(issue, world, "ben")
    r = await client.post(forum_path(world, "/member-departures"), json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 5


async def test_recording_a_departure_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    path, admin = forum_path(world, "/member-departures"), await issue.headers("admin")
    body = {"leader_id": str(world.id("chloe"))}
    await refused_by(client, pool, path, 401, json=body)
    headers = await issue.headers("integration")
    problem = await refused_by(client, pool, path, 403, json=body, headers=headers)
    assert problem["rule"] == "only-admins-stewards-or-the-member-can-record-departures"
    # To a leader who is no member, the forum is an unknown id.
    await refused_by(client, pool, path, 404, json=body, headers=await as_(issue, world, "dev"))
    steward = {"leader_id": str(world.id("ben"))}
    problem = await refused_by(client, pool, path, 403, json=steward, headers=admin)
    assert problem["rule"] == "stewards-stand-down-before-leaving"
    await refused_by(
        client, pool, f"/forums/{uuid.uuid4()}/member-departures", 404, json=body, headers=admin
    )
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=body, headers=stale)
    assert problem["current_version"] == 4
    for bad in ({"leader_id": str(world.id("dev"))}, {"leader_id": None}, {}):
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == "leader_id"


async def test_a_convenor_appoints_a_second_convenor(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"leader_id": str(world.id("chloe")), "role": "convenor"}
    headers = await as_(issue, world, "amina")
    r = await client.post(forum_path(world, "/stewards"), json=body, headers=headers)
    assert r.status_code == 200, r.text
    stewards = (await client.get(forum_path(world), headers=headers)).json()["stewards"]
    assert {"leader_id": str(world.id("chloe")), "roles": ["convenor"]} in stewards
    assert {"leader_id": str(world.id("ben")), "roles": ["recorder"]} in stewards


async def test_appointing_a_steward_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    path, admin = forum_path(world, "/stewards"), await issue.headers("admin")
    body = {"leader_id": str(world.id("chloe")), "role": "recorder"}
    await refused_by(client, pool, path, 401, json=body)
    for headers in (await as_(issue, world, "ben"), await as_(issue, world, "chloe")):
        problem = await refused_by(client, pool, path, 403, json=body, headers=headers)
        assert problem["rule"] == "only-admins-or-convenors-can-appoint-stewards"
    outsider = body | {"leader_id": str(world.id("dev"))}
    problem = await refused_by(client, pool, path, 403, json=outsider, headers=admin)
    assert problem["rule"] == "stewards-must-be-members"
    await refused_by(
        client, pool, f"/forums/{uuid.uuid4()}/stewards", 404, json=body, headers=admin
    )
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=body, headers=stale)
    assert problem["current_version"] == 4
    for bad, field in [
        (body | {"role": "chair"}, "role"),
        (body | {"leader_id": str(world.id("ben"))}, "role"),
        (body | {"leader_id": 12}, "leader_id"),
        ({"leader_id": str(world.id("chloe"))}, "role"),
    ]:
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == field


async def test_a_convenor_stands_another_steward_down(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"leader_id": str(world.id("ben")), "role": "recorder"}
    headers = await as_(issue, world, "amina")
    r = await client.post(forum_path(world, "/steward-departures"), json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 5


async def test_a_steward_stands_down_from_their_own_role(
    client: Client, issue: Tokens, world: World
) -> None:
    body = {"leader_id": str(world.id("ben")), "role": "recorder"}
    headers = await as_(issue, world, "ben")
    r = await client.post(forum_path(world, "/steward-departures"), json=body, headers=headers)
    assert r.status_code == 200, r.text
    stewards = (await client.get(forum_path(world), headers=headers)).json()["stewards"]
    assert stewards == [{"leader_id": str(world.id("amina")), "roles": ["convenor"]}]


async def test_standing_a_steward_down_is_refused_with_the_reason(
    client: Client, issue: Tokens, pool: asyncpg.Pool, world: World
) -> None:
    path, admin = forum_path(world, "/steward-departures"), await issue.headers("admin")
    body = {"leader_id": str(world.id("amina")), "role": "convenor"}
    await refused_by(client, pool, path, 401, json=body)
    for headers in (await as_(issue, world, "ben"), await as_(issue, world, "chloe")):
        problem = await refused_by(client, pool, path, 403, json=body, headers=headers)
        assert problem["rule"] == "only-admins-convenors-or-the-steward-can-record-stand-downs"
    problem = await refused_by(client, pool, path, 403, json=body, headers=admin)
    assert problem["rule"] == "forum-needs-a-convenor"
    await refused_by(
        client, pool, f"/forums/{uuid.uuid4()}/steward-departures", 404, json=body, headers=admin
    )
    stale = admin | {"If-Match": '"99"'}
    problem = await refused_by(client, pool, path, 412, json=body, headers=stale)
    assert problem["current_version"] == 4
    for bad in (
        body | {"role": "recorder"},
        body | {"role": "chair"},
        {"leader_id": str(world.id("amina"))},
    ):
        problem = await refused_by(client, pool, path, 422, json=bad, headers=admin)
        assert problem["errors"][0]["field"] == "role"
