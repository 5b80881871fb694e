"""The purpose, meeting and agreement lists: who sees what, filters, external references."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.api.conftest import Tokens
from tests.api.partners import Partners, partners
from tracker.eventstore.repository import Repository

LISTS = ("/purposes", "/meetings", "/agreements")
KEY = {"/purposes": "purpose_id", "/meetings": "meeting_id", "/agreements": "agreement_id"}


@pytest.fixture
async def p(client: Any, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Partners:
    """Partners, with forum B's own meeting and agreement beside its purpose."""
    p = await partners(client, issue, repository, pool)
    assert p.b.forum is not None and p.b.purpose is not None
    forum_b = str(p.b.forum.id)
    meeting = {"forum_id": forum_b, "title": "Housing board", "starts_at": "2026-12-04T18:00:00Z"}
    p.ids["meeting-b"] = await p.created("/meetings", meeting, "dev")
    body = p.agreement_body() | {"scope_id": forum_b}
    p.ids["agreement-b"] = await p.created("/agreements", body, "dev")
    p.ids["purpose-b"] = str(p.b.purpose.id)
    p.ids["forum-b"] = forum_b
    # Every read waits until the views hold everything arranged.
    p.ids["position"] = str(await pool.fetchval("SELECT max(position) FROM events"))
    return p


async def ids(p: Partners, path: str, by: str, expect: int = 200, **params: str) -> Any:
    """The ids one page lists (or the problem, when refused)."""
    r = await p.get(path, by, **({"min_position": p.ids["position"]} | params))
    assert r.status_code == expect, r.text
    if expect != 200:
        return r.json()
    key = KEY.get(path) or KEY["/" + path.rsplit("/", 1)[1]]
    return {item[key] for item in r.json()["items"]}


def forum_a(p: Partners, path: str) -> set[str]:
    kind = path.strip("/")[:-1]
    found = {p.ids[kind]}
    return found | ({p.ids["purpose-agreement"]} if kind == "agreement" else set())


def forum_b(p: Partners, path: str) -> set[str]:
    return {p.ids[path.strip("/")[:-1] + "-b"]}


@pytest.mark.parametrize("path", LISTS)
async def test_each_caller_sees_the_forums_they_may_and_no_other(p: Partners, path: str) -> None:
    both = forum_a(p, path) | forum_b(p, path)
    for by in ("admin", "auditor", "integration"):
        assert await ids(p, path, by) == both, by
    for by in ("amina", "ben", "limited-a"):
        assert await ids(p, path, by) == forum_a(p, path), by
    for by in ("dev", "eve", "limited-b"):
        assert await ids(p, path, by) == forum_b(p, path), by
        # A filter naming a forum the caller does not see simply finds nothing.
        assert await ids(p, path, by, forum_id=p.forum_a()) == set(), by


@pytest.mark.parametrize("path", LISTS)
async def test_a_forum_filter_narrows_the_list(p: Partners, path: str) -> None:
    assert await ids(p, path, "auditor", forum_id=p.forum_a()) == forum_a(p, path)
    assert await ids(p, path, "auditor", forum_id=p.ids["forum-b"]) == forum_b(p, path)
    assert await ids(p, path, "auditor", forum_id=str(uuid.uuid4())) == set()


@pytest.mark.parametrize("kind", ["purposes", "meetings"])
async def test_a_forums_list_is_unknown_to_those_outside_it(p: Partners, kind: str) -> None:
    path = f"/forums/{p.forum_a()}/{kind}"
    assert await ids(p, path, "amina") == forum_a(p, f"/{kind}")
    assert await ids(p, path, "limited-a") == forum_a(p, f"/{kind}")
    made_up = str(uuid.uuid4())
    for by in ("dev", "limited-b"):
        r = await p.get(path, by, min_position=p.ids["position"])
        unknown = await p.get(f"/forums/{made_up}/{kind}", by, min_position=p.ids["position"])
        assert r.status_code == unknown.status_code == 404, r.text
        assert r.content.replace(p.forum_a().encode(), made_up.encode()) == unknown.content
    b = f"/forums/{p.ids['forum-b']}/{kind}"
    assert await ids(p, b, "dev") == forum_b(p, f"/{kind}")


async def test_lists_filter_by_status_and_kind(p: Partners) -> None:
    retired = await p.post(f"/purposes/{p.purpose_a()}/retirement", {"reason": "Done"}, "amina")
    cancelled = await p.post(
        f"/meetings/{p.ids['meeting']}/cancellation", {"reason": "Snow"}, "amina"
    )
    assert retired.status_code == cancelled.status_code == 200, (retired.text, cancelled.text)
    retire = {"min_position": str(cancelled.json()["position"])}
    assert await ids(p, "/purposes", "auditor", status="retired", **retire) == {p.purpose_a()}
    assert await ids(p, "/purposes", "auditor", status="proposed", **retire) == {p.ids["purpose-b"]}
    assert await ids(p, "/meetings", "auditor", status="cancelled", **retire) == {p.ids["meeting"]}
    assert await ids(p, "/meetings", "auditor", status="scheduled,open", **retire) == {
        p.ids["meeting-b"]
    }
    forum = f"/forums/{p.forum_a()}"
    assert await ids(p, f"{forum}/purposes", "amina", status="proposed", **retire) == set()
    cancelled_ids = await ids(p, f"{forum}/meetings", "amina", status="cancelled", **retire)
    assert cancelled_ids == {p.ids["meeting"]}
    kinds = await ids(p, "/agreements", "auditor", kind="expectation")
    assert kinds == {p.ids["purpose-agreement"]}  # purpose-scoped, listed in its forum
    assert await ids(p, "/agreements", "auditor", kind="decision_rule", forum_id=p.forum_a()) == {
        p.ids["agreement"]
    }
    assert await ids(p, "/agreements", "auditor", status="adopted") == set()
    assert len(await ids(p, "/agreements", "auditor", status=["proposed", "rescinded"])) == 3


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/purposes", {"status": "adopted,lost"}),
        ("/meetings", {"status": "over"}),
        ("/agreements", {"kind": "rule"}),
        ("/agreements", {"status": "amended"}),
        ("/purposes", {"forum_id": "not-a-uuid"}),
        ("/meetings", {"limit": "201"}),
        ("/agreements", {"limit": "0"}),
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(
    p: Partners, path: str, params: dict[str, str]
) -> None:
    problem = await ids(p, path, "auditor", 422, **params)
    assert problem["errors"][0]["field"] == next(iter(params)), problem


async def test_items_name_their_forum_and_proposer(p: Partners) -> None:
    at = p.ids["position"]
    r = await p.get(
        "/agreements", "auditor", forum_id=p.forum_a(), kind="expectation", min_position=at
    )
    [item] = r.json()["items"]
    assert item["forum_name"] == "Warm spaces partnership"
    assert item["proposed_by_name"] == "Ben"
    assert (item["scope"], item["scope_id"]) == ("purpose", p.purpose_a())
    [purpose] = (await p.get("/purposes", "amina", min_position=at)).json()["items"]
    assert (purpose["forum_name"], purpose["proposed_by_name"]) == (item["forum_name"], "Amina")
    r = await p.get("/meetings", "auditor", forum_id=p.ids["forum-b"], min_position=at)
    [meeting] = r.json()["items"]
    assert meeting["forum_name"] == "Warm spaces partnership"
    assert (meeting["title"], meeting["starts_at"]) == ("Housing board", "2026-12-04T18:00:00Z")
