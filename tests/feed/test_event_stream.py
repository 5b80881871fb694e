"""GET /events/stream in the process: what the caller may read, filtered, resumable by id."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from projections.consistency import wait_until
from projections.registry import all_projections
from tests.api.conftest import Tokens
from tests.api.seed import seed_world
from tests.clock import Clock
from tests.feed.streams import commitments
from tracker import tokens
from tracker.eventstore.repository import Repository


def messages(text: str) -> list[tuple[str, str]]:
    """Each message's id and event type."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if "id" in fields:
            found.append((fields["id"], fields["event"]))
    return found


async def test_a_leader_streams_their_forums_events_and_resumes_after_an_id(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    world = await seed_world(repository)
    await commitments(world, clock, 2, progress=1)
    headers = await issue.headers("leader", world.id("ben"))
    params = {"start": "beginning", "follow": "false"}
    r = await client.get("/events/stream", params=params, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    got = messages(r.text)
    # The forum's, its purpose's and its commitments' events; never a leader's or organisation's.
    kinds = {kind.split(".")[0] for _, kind in got}
    assert kinds == {"forum", "purpose", "commitment"}, kinds
    places = [tuple(map(int, i.split(":"))) for i, _ in got]
    assert places == sorted(places) and len(set(places)) == len(places)
    only = await client.get(
        "/events/stream", params=params | {"type": "commitment.accepted"}, headers=headers
    )
    assert [k for _, k in messages(only.text)] == ["commitment.accepted"] * 2
    middle = got[len(got) // 2][0]
    rest = await client.get(
        "/events/stream", params=params, headers=headers | {"Last-Event-ID": middle}
    )
    assert messages(rest.text) == got[len(got) // 2 + 1 :]
    token = await tokens.issue(pool, "elsewhere", "integration", None, forum_ids=[uuid.uuid4()])
    outsider = {"Authorization": f"Bearer {token}"}
    r = await client.get("/events/stream", params=params, headers=outsider)
    assert r.status_code == 200 and messages(r.text) == []


async def test_a_last_event_id_the_stream_never_sent_is_refused_by_name(
    client: AsyncTestClient[Any], issue: Tokens
) -> None:
    headers = await issue.headers("admin") | {"Last-Event-ID": "yesterday"}
    r = await client.get("/events/stream", params={"follow": "false"}, headers=headers)
    assert r.status_code in (400, 422), r.text
    assert "Last-Event-ID" in r.text


async def test_each_message_names_what_its_event_mentions(
    client: AsyncTestClient[Any],
    issue: Tokens,
    repository: Repository,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    world = await seed_world(repository)
    assert world.forum is not None
    await commitments(world, clock, 1, progress=0)
    last: int = await pool.fetchval("SELECT max(position) FROM events")
    assert await wait_until(pool, last, tuple(p.name for p in all_projections()))
    headers = await issue.headers("leader", world.id("ben"))
    params = {"start": "beginning", "follow": "false", "type": "commitment.made"}
    r = await client.get("/events/stream", params=params, headers=headers)
    [data] = [
        json.loads(line[len("data: ") :])
        for line in r.text.splitlines()
        if line.startswith("data: ")
    ]
    assert data["names"][str(world.forum.id)] == "Warm spaces partnership"
    assert data["names"][str(world.id("ben"))] == "Ben"
