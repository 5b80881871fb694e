"""Creating in a forum the caller cannot see is answered as naming a forum that does not exist."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.api.conftest import Tokens
from tests.api.partners import Partners, partners
from tests.api.test_write_limits import creations
from tracker.eventstore.repository import Repository


@pytest.fixture
async def p(client: Any, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Partners:
    return await partners(client, issue, repository, pool)


def elsewhere(body: dict[str, Any], forum_id: str, made_up: str) -> dict[str, Any]:
    """The same body naming a forum nobody has instead of forum A."""
    return dict(json.loads(json.dumps(body).replace(forum_id, made_up)))


async def assert_as_unknown(p: Partners, by: str, **headers: str) -> None:
    """Each creation in forum A is refused byte for byte as one naming an unknown forum."""
    before = await p.events()
    for path, body in creations(p):
        made_up = str(uuid.uuid4())
        r = await p.post(path, body, by, **headers)
        unknown = await p.post(path, elsewhere(body, p.forum_a(), made_up), by, **headers)
        assert r.status_code == unknown.status_code == 422, (path, r.text)
        assert r.content.replace(p.forum_a().encode(), made_up.encode()) == unknown.content
        field = "scope_id" if path == "/agreements" else "forum_id"
        assert r.json()["errors"] == [{"field": field, "message": f"no such forum: {p.forum_a()}"}]
    assert await p.events() == before


@pytest.mark.parametrize("on_behalf", [True, False])
async def test_an_integration_limited_to_other_forums_is_told_the_forum_is_unknown(
    p: Partners, on_behalf: bool
) -> None:
    acting = {"On-Behalf-Of": p.leader("ben")} if on_behalf else {}
    await assert_as_unknown(p, "limited-b", **acting)


async def test_a_leader_of_another_forum_is_told_the_forum_is_unknown(p: Partners) -> None:
    await assert_as_unknown(p, "dev")


async def test_a_leader_who_left_the_forum_is_told_it_is_unknown(p: Partners) -> None:
    left = await p.post(
        f"/forums/{p.forum_a()}/member-departures", {"leader_id": p.leader("ben")}, "ben"
    )
    assert left.status_code == 200, left.text
    await assert_as_unknown(p, "ben")


async def test_those_who_see_the_forum_still_create_in_it(p: Partners) -> None:
    acting = {"On-Behalf-Of": p.leader("chloe")}
    for by, headers in (("amina", {}), ("limited-a", acting), ("integration", acting)):
        for path, body in creations(p):
            body = body | {"title": f"{by} board"} if path == "/meetings" else body
            r = await p.post(path, body, by, **headers)
            assert r.status_code == 201, (by, path, r.text)


async def test_a_deactivated_leader_is_refused_by_rule_whatever_the_forum(p: Partners) -> None:
    deactivated = await p.post(
        f"/leaders/{p.leader('chloe')}/deactivation", {"reason": "Moved away"}, "admin"
    )
    assert deactivated.status_code == 200, deactivated.text
    before = await p.events()
    for path, body in creations(p):
        for forum in (p.forum_a(), str(uuid.uuid4())):
            r = await p.post(path, elsewhere(body, p.forum_a(), forum), "chloe")
            assert r.status_code == 403, (path, r.text)
            assert r.json()["rule"] == "deactivated-leaders-cannot-act"
    assert await p.events() == before
