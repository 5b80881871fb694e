"""The governance lists a page at a time, meetings by start, and lookups by external reference."""

from __future__ import annotations

import base64
import json
from typing import Any

import asyncpg
import pytest

from tests.api.conftest import Tokens
from tests.api.partners import Partners, partners
from tracker.eventstore.repository import Repository


@pytest.fixture
async def p(client: Any, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Partners:
    return await partners(client, issue, repository, pool)


async def last(p: Partners) -> str:
    """The position of the newest event, for reads that must include it."""
    return str(await p.pool.fetchval("SELECT max(position) FROM events"))


async def every_page(p: Partners, path: str, by: str, **params: str) -> list[list[Any]]:
    """Each page's items, following next_cursor until it is null."""
    pages, cursor = [], None
    while True:
        more = {"cursor": cursor} if cursor else {}
        r = await p.get(path, by, min_position=await last(p), **params, **more)
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages


async def meeting(p: Partners, starts_at: str, title: str, by: str = "amina", **extra: Any) -> str:
    body = {"forum_id": p.forum_a(), "title": title, "starts_at": starts_at} | extra
    return await p.created("/meetings", body, by)


async def test_purposes_page_in_proposal_order_without_repeats_or_gaps(p: Partners) -> None:
    made = [p.purpose_a()]
    for n in range(6):
        body = {"forum_id": p.forum_a(), "statement": f"Purpose {n}"}
        made.append(await p.created("/purposes", body, "amina"))
    for path, by in (("/purposes", "amina"), (f"/forums/{p.forum_a()}/purposes", "limited-a")):
        pages = await every_page(p, path, by, limit="3")
        assert [len(page) for page in pages] == [3, 3, 1]
        items = [item for page in pages for item in page]
        keys = [(i["proposed_at"], i["purpose_id"]) for i in items]
        assert keys == sorted(keys) and len(set(keys)) == 7
        assert {i["purpose_id"] for i in items} == set(made)


async def test_meetings_page_by_start_then_id(p: Partners) -> None:
    # Two meetings at the same moment are ordered by id; the list never repeats nor skips one.
    for n, day in enumerate(("05", "01", "05", "02")):
        await meeting(p, f"2026-12-{day}T18:00:00Z", f"Board {n}")
    pages = await every_page(p, "/meetings", "auditor", limit="2")
    assert [len(page) for page in pages] == [2, 2, 1]
    keys = [(i["starts_at"], i["meeting_id"]) for page in pages for i in page]
    assert keys == sorted(keys) and len(set(keys)) == 5
    assert [k[0][:10] for k in keys] == [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-05",
        "2026-12-05",
    ]


async def test_agreements_page_in_proposal_order(p: Partners) -> None:
    for n in range(3):
        await p.created("/agreements", p.agreement_body("purpose", title=f"Rule {n}"), "ben")
    pages = await every_page(p, "/agreements", "ben", limit="2")
    assert [len(page) for page in pages] == [2, 2, 1]
    keys = [(i["proposed_at"], i["agreement_id"]) for page in pages for i in page]
    assert keys == sorted(keys) and len(set(keys)) == 5


def forged(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/purposes", "/meetings", "/agreements", "forum"])
@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        forged(["2026-12-01T00:00:00", "5b0c2b4a-9a8e-4f6e-8e55-0d7c9f0a1b2c"]),  # no offset
        forged(["2300-01-01T00:00:00Z", "5b0c2b4a-9a8e-4f6e-8e55-0d7c9f0a1b2c"]),
        forged(["2026-12-01T00:00:00Z"]),
    ],
)
async def test_a_cursor_this_api_did_not_hand_out_is_a_422(
    p: Partners, path: str, cursor: str
) -> None:
    path = f"/forums/{p.forum_a()}/meetings" if path == "forum" else path
    r = await p.get(path, "auditor", cursor=cursor, min_position=await last(p))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("forum", [False, True])
async def test_meetings_in_a_half_open_range_of_starts(p: Partners, forum: bool) -> None:
    path = f"/forums/{p.forum_a()}/meetings" if forum else "/meetings"
    early = await meeting(p, "2026-12-01T09:00:00Z", "Early")
    late = await meeting(p, "2026-12-10T09:00:00Z", "Late")
    board = p.ids["meeting"]  # 2026-12-03T18:00:00Z

    async def found(**params: str) -> set[str]:
        return {
            i["meeting_id"] for page in await every_page(p, path, "amina", **params) for i in page
        }

    assert await found(starts_from="2026-12-03T18:00:00Z") == {board, late}  # inclusive
    assert await found(starts_before="2026-12-03T18:00:00Z") == {early}  # exclusive
    # The same moment at another offset.
    assert await found(starts_from="2026-12-03T19:00:00+01:00") == {board, late}
    window = {"starts_from": "2026-12-01T09:00:01Z", "starts_before": "2026-12-10T09:00:00Z"}
    assert await found(**window) == {board}
    assert await found(starts_from="2026-12-02T00:00:00Z", status="scheduled") == {board, late}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (
            {"starts_from": "2026-12-03T18:00:00Z", "starts_before": "2026-12-03T18:00:00Z"},
            "starts_before",
        ),
        (
            {"starts_from": "2026-12-04T00:00:00Z", "starts_before": "2026-12-03T00:00:00Z"},
            "starts_before",
        ),
        ({"starts_from": "2026-12-03T18:00:00"}, "starts_from"),
        ({"starts_before": "2301-01-01T00:00:00Z"}, "starts_before"),
        ({"starts_from": "1899-12-31T23:00:00Z"}, "starts_from"),
        ({"starts_from": "next tuesday"}, "starts_from"),
    ],
)
async def test_a_bad_range_of_starts_is_a_422_naming_it(
    p: Partners, params: dict[str, str], field: str
) -> None:
    for path in ("/meetings", f"/forums/{p.forum_a()}/meetings"):
        r = await p.get(path, "auditor", **params)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field, r.text


async def referenced(p: Partners) -> dict[str, str]:
    """One of each resource in forum A, created by the integration limited to it under a
    reference of its own system, limited-a."""
    on_behalf = {"On-Behalf-Of": p.leader("amina")}
    bodies = {
        "/purposes": {"forum_id": p.forum_a(), "statement": "Warm homes"},
        "/meetings": {
            "forum_id": p.forum_a(),
            "title": "January",
            "starts_at": "2027-01-07T18:00:00Z",
        },
        "/agreements": p.agreement_body("purpose"),
        "/commitments": p.commitment_body(),
    }
    made = {}
    for path, body in bodies.items():
        body = body | {"source_system": "limited-a", "external_id": f"X{path}"}
        r = await p.post(path, body, "limited-a", **on_behalf)
        assert r.status_code == 201, r.text
        made[path] = r.json()["stream_id"]
    return made


KEYS = {
    "/purposes": "purpose_id",
    "/meetings": "meeting_id",
    "/agreements": "agreement_id",
    "/commitments": "commitment_id",
}


async def test_lookup_by_external_reference(p: Partners) -> None:
    made = await referenced(p)
    at = await last(p)
    for path, key in KEYS.items():
        ref = {"source_system": "limited-a", "external_id": f"X{path}", "min_position": at}
        for by in ("auditor", "integration", "limited-a", "amina"):
            r = await p.get(path, by, **ref)
            assert [i[key] for i in r.json()["items"]] == [made[path]], (path, by, r.text)
            assert r.json()["next_cursor"] is None
        # Outside forum A, the reference finds nothing, exactly as one never made.
        for by in ("dev", "limited-b"):
            r = await p.get(path, by, **ref)
            assert r.status_code == 200 and r.json()["items"] == [], (path, by, r.text)
        for other in ({"external_id": "X/none"}, {"source_system": "limited-b"}):
            r = await p.get(path, "auditor", **(ref | other))
            assert r.json()["items"] == [], (path, other)
        # The reference combines with the other filters.
        r = await p.get(path, "auditor", **ref, forum_id=str(p.b.forum.id if p.b.forum else ""))
        assert r.json()["items"] == []
    r = await p.get(
        f"/forums/{p.forum_a()}/purposes",
        "amina",
        source_system="limited-a",
        external_id="X/purposes",
        min_position=at,
    )
    assert [i["purpose_id"] for i in r.json()["items"]] == [made["/purposes"]]


@pytest.mark.parametrize("path", [*KEYS, "forum"])
@pytest.mark.parametrize(
    ("params", "missing"),
    [({"source_system": "limited-a"}, "external_id"), ({"external_id": "X"}, "source_system")],
)
async def test_half_a_reference_is_a_422_naming_the_other_half(
    p: Partners, path: str, params: dict[str, str], missing: str
) -> None:
    path = f"/forums/{p.forum_a()}/purposes" if path == "forum" else path
    r = await p.get(path, "auditor", **params)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == missing


async def test_a_list_read_after_a_write_includes_it(p: Partners) -> None:
    r = await p.post("/purposes", {"forum_id": p.forum_a(), "statement": "Fed"}, "ben")
    assert r.status_code == 201, r.text
    written, position = r.json()["stream_id"], r.json()["position"]
    page = await p.get("/purposes", "ben", min_position=str(position))
    assert written in {i["purpose_id"] for i in page.json()["items"]}
    never = await p.get("/meetings", "ben", min_position=str(position + 1000))
    assert never.status_code == 422 and never.json()["errors"][0]["field"] == "min_position"


async def test_a_list_as_of_a_past_moment_shows_what_there_was_then(p: Partners) -> None:
    before = await last(p)
    added = await p.created("/purposes", {"forum_id": p.forum_a(), "statement": "Later"}, "ben")
    now = await p.get("/purposes", "ben", min_position=await last(p))
    then = await p.get("/purposes", "ben", as_of=before)
    assert added in {i["purpose_id"] for i in now.json()["items"]}
    assert [i["purpose_id"] for i in then.json()["items"]] == [p.purpose_a()]
    # Access to the past is judged as it is now: an outsider still sees nothing of forum A.
    outsider = await p.get(f"/forums/{p.forum_a()}/purposes", "dev", as_of=before)
    assert outsider.status_code == 404, outsider.text
