"""Tokens at the API: deactivated leaders, expiry, throttled failures, health, event source."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import World, seed_world
from tests.clock import Clock
from tracker import tokens
from tracker.eventstore.repository import Repository
from tracker.throttle import LIMIT

Client = AsyncTestClient[Litestar]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def commitment(world: World, owner: str) -> dict[str, object]:
    assert world.forum is not None and world.purpose is not None
    return {
        "forum_id": str(world.forum.id),
        "owner_id": str(world.id(owner)),
        "description": "Open the library as a warm space on weekday evenings",
        "purpose_ids": [str(world.purpose.id)],
    }


async def events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def test_a_deactivated_leaders_token_is_refused_at_once_for_reads_and_writes(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world = await seed_world(repository)
    ben = await issue.headers("leader", world.id("ben"))
    made = await client.post("/commitments", json=commitment(world, "ben"), headers=ben)
    assert made.status_code == 201, made.text
    cid = made.json()["stream_id"]
    view = f"/leaders/{world.id('ben')}/commitments"
    assert (await client.get(f"/leaders/{world.id('ben')}", headers=ben)).status_code == 200

    admin = await issue.headers("admin")
    off = await client.post(f"/leaders/{world.id('ben')}/deactivation", json={}, headers=admin)
    assert off.status_code == 200, off.text

    before = await events(pool)
    for refused in [
        await client.get(view, headers=ben),
        await client.get(f"/commitments/{cid}", headers=ben),
        await client.post("/commitments", json=commitment(world, "ben"), headers=ben),
        await client.post(f"/commitments/{cid}/comments", json={"text": "still here"}, headers=ben),
    ]:
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["rule"] == "deactivated-leaders-cannot-act"
    assert await events(pool) == before
    # Other leaders and the administrator carry on.
    amina = await issue.headers("leader", world.id("amina"))
    assert (await client.get(f"/commitments/{cid}", headers=amina)).status_code == 200


async def test_a_token_is_refused_from_the_moment_it_expires_by_the_app_clock(
    client: Client, pool: asyncpg.Pool, clock: Clock
) -> None:
    token = await tokens.issue(pool, "short", "admin", expires_at=clock() + timedelta(hours=1))
    assert (await client.get("/projections", headers=bearer(token))).status_code == 200
    clock.advance(minutes=59, seconds=59)
    assert (await client.get("/projections", headers=bearer(token))).status_code == 200
    clock.advance(seconds=1)
    expired = await client.get("/projections", headers=bearer(token))
    assert expired.status_code == 401 and expired.headers["www-authenticate"] == "Bearer"
    assert "expired" in expired.json()["detail"]


async def test_repeated_failures_from_one_address_are_answered_429_until_the_window_passes(
    client: Client, issue: Tokens, clock: Clock
) -> None:
    bad = bearer("trk_not-a-token")
    for _ in range(LIMIT):
        assert (await client.get("/projections", headers=bad)).status_code == 401
    throttled = await client.get("/projections", headers=bad)
    assert throttled.status_code == 429, throttled.text
    assert throttled.headers["content-type"].startswith("application/problem+json")
    assert throttled.headers["retry-after"] == "10"
    assert throttled.json()["status"] == 429
    # A valid token from the same address is never throttled.
    admin = await issue.headers("admin")
    assert (await client.get("/projections", headers=admin)).status_code == 200
    # Requests without a token are not guesses and are not counted.
    assert (await client.get("/projections")).status_code == 401
    clock.advance(seconds=9)
    waited = await client.get("/projections", headers=bad)
    assert waited.status_code == 429 and waited.headers["retry-after"] == "1"
    clock.advance(seconds=10, microseconds=1)
    assert (await client.get("/projections", headers=bad)).status_code == 401


async def test_health_without_a_token_says_only_up_or_down(client: Client, issue: Tokens) -> None:
    public = await client.get("/health")
    assert public.status_code == 200
    assert public.json()["status"] == "ok" and public.json()["database"] == {"reachable": True}
    assert "migrations" not in public.json()

    detailed = await client.get("/health", headers=await issue.headers("auditor"))
    assert detailed.status_code == 200
    assert detailed.json()["migrations"]["pending"] == []
    assert "0007_token_expiry.sql" in detailed.json()["migrations"]["applied"]

    bad = await client.get("/health", headers=bearer("trk_not-a-token"))
    assert bad.status_code == 401 and "migrations" not in bad.text


async def test_the_event_source_comes_from_the_token_never_from_a_header(
    client: Client, pool: asyncpg.Pool, repository: Repository
) -> None:
    world = await seed_world(repository)
    token = await tokens.issue(pool, "minutes-tool", "integration")
    headers = bearer(token) | {"X-Source": "api:admin", "On-Behalf-Of": str(world.id("amina"))}
    r = await client.post("/commitments", json=commitment(world, "ben"), headers=headers)
    assert r.status_code == 201, r.text
    source = await pool.fetchval(
        "SELECT source FROM events WHERE stream_id = $1", uuid.UUID(r.json()["stream_id"])
    )
    assert source == "api:integration:minutes-tool"
