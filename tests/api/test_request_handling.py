"""What any client can send: odd bodies, odd If-Match values, HEAD and OPTIONS on every path."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import World, seed_world
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


class Caller:
    """A seeded forum and the headers of Ben, one of its members, and of an auditor."""

    def __init__(self, client: Client, world: World, ben: dict[str, str], auditor: dict[str, str]):
        self.client, self.world, self.ben, self.auditor = client, world, ben, auditor

    def commitment(self) -> dict[str, Any]:
        assert self.world.forum is not None and self.world.purpose is not None
        return {
            "forum_id": str(self.world.forum.id),
            "owner_id": str(self.world.id("ben")),
            "description": "Open the library on weekday evenings",
            "purpose_ids": [str(self.world.purpose.id)],
        }

    async def make(self) -> str:
        r = await self.client.post("/commitments", json=self.commitment(), headers=self.ben)
        assert r.status_code == 201, r.text
        return str(r.json()["stream_id"])

    async def report(self, cid: str, percent: int, **headers: str) -> Any:
        path = f"/commitments/{cid}/progress-reports"
        return await self.client.post(path, json={"percent": percent}, headers=self.ben | headers)


@pytest.fixture
async def caller(client: Client, issue: Tokens, repository: Repository) -> Caller:
    world = await seed_world(repository)
    ben = await issue.headers("leader", world.id("ben"))
    return Caller(client, world, ben, await issue.headers("auditor"))


async def count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


def bad_body(r: Any) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["body"]


@pytest.mark.parametrize("depth", [2_000, 100_000])
async def test_json_nested_too_deeply_is_a_400_naming_the_body(
    caller: Caller, pool: asyncpg.Pool, depth: int
) -> None:
    json = {"Content-Type": "application/json"}
    for body in [b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth]:
        r = await caller.client.post("/commitments", content=body, headers=caller.ben | json)
        bad_body(r)
    assert await pool.fetchval("SELECT count(*) FROM events WHERE stream_type = 'commitment'") == 0


@pytest.mark.parametrize(
    "body", [b'{"description": "\xff\xfe"}', b'{"\xc3": 1}', b"{not json", b'{"a": 1}\xff']
)
async def test_a_body_that_is_not_utf8_json_is_a_400_naming_the_body(
    caller: Caller, body: bytes
) -> None:
    json = {"Content-Type": "application/json"}
    bad_body(await caller.client.post("/commitments", content=body, headers=caller.ben | json))


@pytest.mark.parametrize("value", ['"1_0"', "1_0", 'W/"10"', '"+10"', '" 10"', "*", '"10'])
async def test_if_match_is_compared_strictly(
    caller: Caller, pool: asyncpg.Pool, value: str
) -> None:
    cid = await caller.make()
    for percent in range(1, 10):
        assert (await caller.report(cid, percent)).status_code == 200
    before = await count(pool)  # the commitment is at version 10

    r = await caller.report(cid, 50, **{"If-Match": value})

    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["If-Match"]
    assert await count(pool) == before


@pytest.mark.parametrize("value", ['"1"', "1"])
async def test_if_match_takes_a_quoted_version_or_its_bare_digits(
    caller: Caller, value: str
) -> None:
    cid = await caller.make()
    assert (await caller.report(cid, 5, **{"If-Match": value})).status_code == 200
    stale = await caller.report(cid, 6, **{"If-Match": value})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2


def get_routes(app: Litestar) -> list[HTTPRoute]:
    return [r for r in app.routes if isinstance(r, HTTPRoute) and "GET" in r.methods]


def concrete(route: HTTPRoute) -> str:
    """The route's path with a made-up value in each parameter."""
    path = route.path_format
    for name, parameter in route.path_parameters.items():
        value = uuid.uuid4() if parameter.type is uuid.UUID else 1
        path = path.replace("{" + name + "}", str(value))
    return path


async def test_head_answers_every_get_route_like_get_without_a_body(
    app: Litestar, caller: Caller
) -> None:
    cid = await caller.make()
    paths = [concrete(r) for r in get_routes(app)] + [f"/commitments/{cid}", "/commitments"]
    for path in paths:
        # The event stream's GET follows the log for ever; HEAD ends it at once.
        params = {"follow": "false"} if path == "/events/stream" else {}
        got = await caller.client.get(path, headers=caller.auditor, params=params)
        head = await caller.client.head(path, headers=caller.auditor)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert head.headers.get("etag") == got.headers.get("etag"), path
    head = await caller.client.head(f"/commitments/{cid}", headers=caller.auditor)
    assert head.headers["etag"] == '"1"' and int(head.headers["content-length"]) > 0


async def test_head_on_a_path_without_get_is_405_naming_the_methods(caller: Caller) -> None:
    r = await caller.client.head(f"/commitments/{uuid.uuid4()}/completion", headers=caller.ben)
    assert r.status_code == 405 and r.content == b""
    assert set(r.headers["allow"].split(", ")) == {"OPTIONS", "POST"}


async def test_options_lists_every_method_of_every_path(app: Litestar, caller: Caller) -> None:
    for route in (r for r in app.routes if isinstance(r, HTTPRoute)):
        expected = {str(getattr(m, "value", m)) for m in route.methods}
        if "GET" in expected:
            expected.add("HEAD")
        r = await caller.client.options(concrete(route), headers=caller.auditor)
        assert r.status_code == 204, route.path
        assert set(r.headers["allow"].split(", ")) == expected, route.path
    r = await caller.client.options("/commitments", headers=caller.auditor)
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
