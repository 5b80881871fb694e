"""A command citing another forum's purpose or meeting is answered as for an unknown id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import asyncpg
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_decision_rule, seed_world
from tracker.domain import Agreement, Commitment, Forum, Leader, Meeting, Purpose
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Elsewhere:
    """A second forum, convened by Dev, with a purpose and a meeting of its own."""

    def __init__(self, dev: Leader, forum: Forum, purpose: Purpose, meeting: Meeting) -> None:
        self.dev, self.forum, self.purpose, self.meeting = dev, forum, purpose, meeting


async def two_forums(repository: Repository) -> tuple[World, Elsewhere]:
    world = await seed_world(repository)
    dev = Leader.register(uuid.uuid4(), "Dev", None)
    forum = Forum.convene(uuid.uuid4(), "Food partnership", dev.id)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Nobody goes hungry", dev.id)
    meeting = Meeting.schedule(uuid.uuid4(), forum.id, "December", STARTS)
    await repository.save(dev, forum, purpose, meeting, context=SEEDER)
    return world, Elsewhere(dev, forum, purpose, meeting)


async def events(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM events")
    return count


async def alike(
    pool: asyncpg.Pool,
    send: Callable[[uuid.UUID], Awaitable[Response]],
    foreign: uuid.UUID,
    field: str,
) -> None:
    kind = "meeting" if field == "meeting_id" else "purpose"
    """The answers to the foreign id and to a made-up one differ only in the id, and write
    nothing."""
    before = await events(pool)
    made_up = uuid.uuid4()
    to_foreign, to_unknown = await send(foreign), await send(made_up)
    assert to_foreign.status_code == to_unknown.status_code == 422, to_foreign.text
    assert to_foreign.content.replace(str(foreign).encode(), b"ID") == (
        to_unknown.content.replace(str(made_up).encode(), b"ID")
    )
    assert to_foreign.json()["errors"] == [
        {"field": field, "message": f"no such {kind}: {foreign}"}
    ]
    assert await events(pool) == before


async def test_making_a_commitment_citing_another_forums_purpose(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, elsewhere = await two_forums(repository)
    assert world.forum is not None
    headers = await issue.headers("leader", world.id("ben"))

    async def send(purpose_id: uuid.UUID) -> Response:
        body = {
            "forum_id": str(world.forum.id),  # type: ignore[union-attr]
            "owner_id": str(world.id("ben")),
            "description": "Open the library on Saturdays",
            "purpose_ids": [str(purpose_id)],
        }
        return await client.post("/commitments", json=body, headers=headers)

    await alike(pool, send, elsewhere.purpose.id, "purpose_ids")


async def test_making_a_commitment_at_another_forums_meeting(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, elsewhere = await two_forums(repository)
    assert world.forum is not None and world.purpose is not None
    headers = await issue.headers("leader", world.id("ben"))

    async def send(meeting_id: uuid.UUID) -> Response:
        body = {
            "forum_id": str(world.forum.id),  # type: ignore[union-attr]
            "owner_id": str(world.id("ben")),
            "description": "Open the library on Saturdays",
            "purpose_ids": [str(world.purpose.id)],  # type: ignore[union-attr]
            "meeting_id": str(meeting_id),
        }
        return await client.post("/commitments", json=body, headers=headers)

    await alike(pool, send, elsewhere.meeting.id, "meeting_id")


async def test_linking_another_forums_purpose_to_a_commitment(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, elsewhere = await two_forums(repository)
    assert world.forum is not None and world.purpose is not None
    ben = world.id("ben")
    commitment = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=ben,
        by=ben,
        description="Open the library on Saturdays",
        purpose_ids=[world.purpose.id],
        made_on=date(2026, 11, 1),
    )
    await repository.save(commitment, context=SEEDER)
    headers = await issue.headers("leader", ben)

    async def send(purpose_id: uuid.UUID) -> Response:
        path = f"/commitments/{commitment.id}/purpose-links"
        return await client.post(path, json={"purpose_id": str(purpose_id)}, headers=headers)

    await alike(pool, send, elsewhere.purpose.id, "purpose_id")


async def test_adopting_a_purpose_at_another_forums_meeting(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, elsewhere = await two_forums(repository)
    assert world.purpose is not None
    rule = await seed_decision_rule(world)
    headers = await issue.headers("leader", world.id("amina"))

    async def send(meeting_id: uuid.UUID) -> Response:
        body = {"decision_rule_id": str(rule.id), "meeting_id": str(meeting_id)}
        path = f"/purposes/{world.purpose.id}/adoption"  # type: ignore[union-attr]
        return await client.post(path, json=body, headers=headers)

    await alike(pool, send, elsewhere.meeting.id, "meeting_id")


async def test_adopting_an_agreement_at_another_forums_meeting(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, elsewhere = await two_forums(repository)
    assert world.forum is not None
    agreement = Agreement.propose(
        uuid.uuid4(),
        "forum",
        world.forum.id,
        "decision_rule",
        "Consent",
        "By consent",
        world.id("amina"),
    )
    await repository.save(agreement, context=SEEDER)
    rule = await seed_decision_rule(world)
    headers = await issue.headers("leader", world.id("amina"))

    async def send(meeting_id: uuid.UUID) -> Response:
        body = {"decision_rule_id": str(rule.id), "meeting_id": str(meeting_id)}
        return await client.post(f"/agreements/{agreement.id}/adoption", json=body, headers=headers)

    await alike(pool, send, elsewhere.meeting.id, "meeting_id")


async def test_proposing_an_agreement_on_a_purpose_of_a_forum_the_leader_is_not_in(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, elsewhere = await two_forums(repository)
    headers = await issue.headers("leader", world.id("ben"))

    async def send(purpose_id: uuid.UUID) -> Response:
        body = {
            "scope": "purpose",
            "scope_id": str(purpose_id),
            "kind": "expectation",
            "title": "Rotas",
            "text": "Share rotas",
        }
        return await client.post("/agreements", json=body, headers=headers)

    await alike(pool, send, elsewhere.purpose.id, "scope_id")
