"""GET /me: who each kind of token speaks for, from the directory and the token's record."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from tests.api.directory_world import Client, Directory
from tests.clock import Clock
from tracker import tokens
from tracker.eventstore.repository import Repository


@pytest.fixture
async def d(client: Client, repository: Repository, pool: asyncpg.Pool) -> Directory:
    world = Directory(client, repository, pool)
    await world.seed()
    return world


async def token_id(pool: asyncpg.Pool, name: str) -> str:
    return str(await pool.fetchval("SELECT id FROM api_tokens WHERE name = $1", name))


async def test_a_leader_sees_their_affiliations_forums_and_roles(d: Directory) -> None:
    me = await d.get("/me", "amina")
    assert (me["kind"], me["name"], me["expires_at"]) == ("leader", "test-amina", None)
    assert me["token_id"] == await token_id(d.pool, "test-amina")
    assert me["forum_limit"] is None
    leader = me["leader"]
    assert me["leader_id"] == leader["leader_id"] == str(d.id("amina"))
    assert (leader["name"], leader["email"], leader["status"]) == (
        "Amina", "amina@Example.org", "active"
    )  # fmt: skip
    assert [(a["organisation_name"], a["title"]) for a in leader["affiliations"]] == [
        ("Riverside Council", "Director"),
        ("Northgate NHS Trust", "Trustee"),
    ]
    assert (leader["affiliations_total"], leader["forums_total"]) == (2, 1)
    assert leader["forums"] == [
        {
            "forum_id": str(d.forums["a"].id),
            "name": "Warm spaces",
            "roles": ["member", "steward", "convenor"],
        }
    ]


async def test_each_member_sees_their_own_roles_in_each_forum(d: Directory) -> None:
    async def forums(who: str) -> list[tuple[str, list[str]]]:
        me = await d.get("/me", who)
        return [(f["name"], f["roles"]) for f in me["leader"]["forums"]]

    assert await forums("ben") == [("Warm spaces", ["member", "steward", "recorder"])]
    assert await forums("chloe") == [
        ("Warm spaces", ["member"]),
        ("Youth partnership", ["member"]),
    ]
    assert await forums("dara") == [("Youth partnership", ["member", "steward", "convenor"])]
    assert await forums("finn") == []  # left forum A
    assert await forums("eve") == []


async def test_an_integration_sees_the_forums_its_token_is_limited_to(d: Directory) -> None:
    limited = await d.get("/me", "limited_b")
    assert limited["kind"] == "integration" and limited["leader"] is None
    assert limited["forum_limit"] == [
        {"forum_id": str(d.forums["b"].id), "name": "Youth partnership"}
    ]
    unlimited = await d.get("/me", "integration")
    assert unlimited["forum_limit"] is None and unlimited["leader_id"] is None


@pytest.mark.parametrize("kind", ["admin", "auditor"])
async def test_an_admin_or_auditor_is_no_leader_and_has_no_forum_limit(
    d: Directory, kind: str
) -> None:
    me = await d.get("/me", kind)
    assert (me["kind"], me["name"], me["leader"], me["forum_limit"]) == (
        kind,
        f"test-{kind}",
        None,
        None,
    )


async def test_an_expiring_token_shows_when_it_expires(d: Directory, clock: Clock) -> None:
    expires = clock() + timedelta(hours=5)
    token = await tokens.issue(d.pool, "short", "leader", d.id("eve"), expires_at=expires)
    r = await d.client.get(
        "/me",
        params={"min_position": await d.position()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"].replace("Z", "+00:00") == expires.isoformat()
    assert r.json()["leader"]["name"] == "Eve"


async def test_a_renamed_forum_shows_its_new_name_at_once_with_min_position(d: Directory) -> None:
    forum_a = d.forums["a"].id
    r = await d.client.post(
        f"/forums/{forum_a}/renaming", json={"name": "Warm homes"}, headers=await d.as_("admin")
    )
    assert r.status_code == 200, r.text
    me = await d.get("/me", "chloe", min_position=r.json()["position"])
    assert [f["name"] for f in me["leader"]["forums"]] == ["Warm homes", "Youth partnership"]
