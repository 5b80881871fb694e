"""A leader's email: seen by the leader, their forums' stewards, auditors and admins only."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from projections.commitment_view import CommitmentViews
from projections.consistency import wait_until
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tracker.domain import Forum, Leader
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


async def caught_up(pool: asyncpg.Pool) -> None:
    """Wait for the views to hold every forum's members and stewards."""
    last: int = await pool.fetchval("SELECT max(position) FROM events")
    assert await wait_until(pool, last, (CommitmentViews.name,))


async def two_forums(repository: Repository, pool: asyncpg.Pool) -> tuple[World, Leader]:
    """Amina convenes (stewards) a forum Ben and Chloe joined; Dev convenes another."""
    world = await seed_world(repository)
    dev = Leader.register(uuid.uuid4(), "Dev", "dev@example.org")
    other = Forum.convene(uuid.uuid4(), "Food partnership", dev.id)
    await repository.save(dev, other, context=SEEDER)
    await caught_up(pool)
    return world, dev


async def email_seen(client: Client, leader_id: uuid.UUID, headers: dict[str, str]) -> object:
    r = await client.get(f"/leaders/{leader_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["email"]


async def test_the_leader_a_steward_of_their_forum_an_admin_and_an_auditor_see_the_email(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, _ = await two_forums(repository, pool)
    ben = world.id("ben")
    for headers in (
        await issue.headers("leader", ben),
        await issue.headers("leader", world.id("amina")),
        await issue.headers("admin"),
        await issue.headers("auditor"),
    ):
        assert await email_seen(client, ben, headers) == "ben@example.org"


async def test_a_fellow_member_a_leader_of_another_forum_and_an_integration_see_null(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, dev = await two_forums(repository, pool)
    ben, chloe = world.id("ben"), world.id("chloe")
    for headers in (
        await issue.headers("leader", chloe),
        await issue.headers("leader", dev.id),
        await issue.headers("integration"),
    ):
        assert await email_seen(client, ben, headers) is None
    # Stewardship runs one way: a member does not see their steward's email either.
    assert await email_seen(client, world.id("amina"), await issue.headers("leader", ben)) is None


async def test_a_steward_stops_seeing_the_email_once_the_leader_leaves_the_forum(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, _ = await two_forums(repository, pool)
    assert world.forum is not None
    ben, as_amina = world.id("ben"), await issue.headers("leader", world.id("amina"))
    forum = await repository.get(Forum, world.forum.id)
    forum.leave(ben)
    await repository.save(forum, context=SEEDER)
    # Decided on the forum as it stands, even before the views have caught up.
    assert await email_seen(client, ben, as_amina) is None


async def test_an_as_of_read_applies_the_same_rule(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, dev = await two_forums(repository, pool)
    ben = world.id("ben")
    at = {"as_of": str(await pool.fetchval("SELECT max(position) FROM events"))}
    for kind, leader_id, expected in (
        ("leader", world.id("amina"), "ben@example.org"),
        ("admin", None, "ben@example.org"),
        ("leader", world.id("chloe"), None),
        ("leader", dev.id, None),
    ):
        headers = await issue.headers(kind, leader_id)
        r = await client.get(f"/leaders/{ben}", headers=headers, params=at)
        assert r.status_code == 200, r.text
        assert r.json()["email"] == expected


async def test_hidden_and_absent_emails_answer_alike(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, dev = await two_forums(repository, pool)
    quiet = Leader.register(uuid.uuid4(), "Quiet", None)
    await repository.save(quiet, context=SEEDER)
    as_dev = await issue.headers("leader", dev.id)
    hidden = (await client.get(f"/leaders/{world.id('ben')}", headers=as_dev)).json()
    absent = (await client.get(f"/leaders/{quiet.id}", headers=as_dev)).json()
    assert set(hidden) == set(absent)
    assert hidden["email"] is absent["email"] is None
