"""The commitment list over the real app: filters, overdue per time zone, paging, access."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from projections.queries.commitment_list import CommitmentPage
from tests.api.conftest import Tokens
from tests.api.test_leader_view import Views, make_views
from tests.clock import Clock
from tracker.domain import Commitment
from tracker.eventstore.repository import Repository

PATH = "/commitments"


@pytest.fixture
async def views(client: AsyncTestClient[Litestar], repository: Repository, issue: Tokens) -> Views:
    return await make_views(client, repository, issue)


async def listed(views: Views, who: str = "auditor", **params: Any) -> list[str]:
    """Every id the list returns for these filters (one page is enough here)."""
    page = await views.get(PATH, await views.as_(who), **params)
    assert page["next_cursor"] is None
    return [i["commitment_id"] for i in page["items"]]


def idset(*commitments: Commitment) -> set[str]:
    return {str(c.id) for c in commitments}


async def test_each_filter(views: Views) -> None:
    a, b = views.id("amina"), views.id("ben")
    mine = await views.commit("amina", due_on=date(2026, 12, 1))
    asked = await views.commit("ben", by="amina", due_on=date(2026, 12, 20))
    late = await views.commit("ben", due_on=date(2026, 11, 20))
    far = await views.commit("chloe", far=True)
    done = await views.commit("amina", due_on=date(2026, 11, 10))
    done.complete(a)
    await views.save(done)
    assert views.far is not None and views.far_purpose is not None

    async def ids(**params: Any) -> set[str]:
        return set(await listed(views, **params))

    assert await ids() == idset(mine, asked, late, far, done)
    assert await ids(owner_id=str(a)) == idset(mine, done)
    assert await ids(requester_id=str(a)) == idset(asked)
    assert await ids(purpose_id=str(views.far_purpose.id)) == idset(far)
    assert await ids(forum_id=str(views.far.id)) == idset(far)
    org = views.world.organisations["ben"].id
    assert await ids(organisation_id=str(org)) == idset(asked, late)
    assert await ids(owner_id=str(b), status="proposed") == idset(asked)
    assert await ids(status=["proposed", "completed"]) == idset(asked, done)
    assert await ids(status="proposed,completed") == idset(asked, done)
    assert await ids(due_before="2026-12-01") == idset(mine, late, done)  # inclusive
    assert await ids(due_after="2026-12-01") == idset(mine, asked)  # inclusive
    assert await ids(due_after="2026-11-15", due_before="2026-12-19") == idset(mine, late)
    assert await ids(overdue="true") == idset(late)  # done is not open, so not overdue
    assert await ids(overdue="false") == idset(mine, asked, far, done)
    page = await views.get(PATH, await views.as_("auditor"), overdue="true")
    assert page["items"][0]["overdue"] is True and page["evaluated_at"] == "2026-11-26T10:00:00Z"


async def test_refuses_bad_parameters(views: Views) -> None:
    auditor = await views.as_("auditor")
    for params in ({"status": "lost"}, {"cursor": "not-a-cursor"}, {"limit": 201}, {"limit": 0}):
        problem = await views.get(PATH, auditor, 422, **params)
        assert problem["errors"][0]["field"] == next(iter(params))


@pytest.mark.parametrize(
    ("moment", "london", "auckland"),
    [
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), False, False),
        (datetime(2026, 12, 1, 10, 59, tzinfo=UTC), False, False),
        (datetime(2026, 12, 1, 11, 0, tzinfo=UTC), False, True),  # 00:00 2 Dec in Auckland
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), False, True),  # still 1 Dec in London
        (datetime(2026, 12, 2, 0, 0, tzinfo=UTC), True, True),  # 00:00 2 Dec in London
    ],
)
async def test_overdue_is_judged_by_the_app_clock_in_each_forums_time_zone(
    views: Views, clock: Clock, moment: datetime, london: bool, auckland: bool
) -> None:
    near = await views.commit("amina", due_on=date(2026, 12, 1))
    far = await views.commit("amina", due_on=date(2026, 12, 1), far=True)
    clock.moment = moment
    expected = {str(near.id): london, str(far.id): auckland}
    page = await views.get(PATH, await views.as_("auditor"))
    assert {i["commitment_id"]: i["overdue"] for i in page["items"]} == expected
    overdue = {k for k, v in expected.items() if v}
    assert set(await listed(views, overdue="true")) == overdue
    assert set(await listed(views, overdue="false")) == set(expected) - overdue


async def pages(views: Views, limit: int, **params: Any) -> list[list[str]]:
    """Follow next_cursor to the end."""
    found: list[list[str]] = []
    cursor: str | None = None
    while True:
        extra: dict[str, Any] = {"cursor": cursor} if cursor else {}
        page = await views.get(PATH, await views.as_("auditor"), limit=limit, **params, **extra)
        found.append([i["commitment_id"] for i in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def test_pages_follow_one_another_with_no_duplicates_or_gaps(
    views: Views, pool: asyncpg.Pool
) -> None:
    made = [await views.commit("amina") for _ in range(23)]
    # Several rows made at the same instant: the id breaks the tie, so none is lost or repeated.
    tied = [str(c.id) for c in made[5:12]]
    await pool.execute(
        "UPDATE commitments SET created_at = $1 WHERE commitment_id = ANY($2::uuid[])",
        datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=UTC),
        tied,
    )
    everything = await pages(views, 200)
    assert len(everything) == 1 and sorted(everything[0]) == sorted(str(c.id) for c in made)
    paged = await pages(views, 5)
    assert [len(p) for p in paged] == [5, 5, 5, 5, 3]
    flat = [i for p in paged for i in p]
    assert flat == everything[0]  # the same order, no duplicates, no gaps
    assert await pages(views, 23) == everything  # an exact last page says there is no next
    mine = await pages(views, 4, owner_id=str(views.id("amina")))
    assert [i for p in mine for i in p] == flat


async def test_a_leader_lists_only_forums_they_belong_to(views: Views) -> None:
    near = await views.commit("amina")
    far = await views.commit("amina", far=True)
    assert views.far is not None
    assert set(await listed(views, "amina")) == idset(near, far)
    assert set(await listed(views, "ben")) == idset(near)
    assert await listed(views, "ben", forum_id=str(views.far.id)) == []  # filtered, not refused
    for who in ("auditor", "admin", "integration"):
        assert set(await listed(views, who)) == idset(near, far)
    r = await views.client.get(PATH)
    assert r.status_code == 401


async def test_an_integration_lists_only_the_forums_its_token_is_limited_to(views: Views) -> None:
    await views.commit("amina")
    far = await views.commit("amina", far=True)
    assert views.far is not None
    page = await views.get(PATH, await views.scoped(views.far))
    assert [i["commitment_id"] for i in page["items"]] == [str(far.id)]


async def test_a_command_is_listed_at_once_with_its_min_position(
    views: Views, clock: Clock
) -> None:
    assert views.world.forum is not None and views.world.purpose is not None
    headers = await views.as_("amina")
    for n in range(20):
        clock.advance(seconds=1)  # the list runs oldest first
        body = {
            "forum_id": str(views.world.forum.id),
            "owner_id": str(views.id("amina")),
            "description": f"Staff the warm space, week {n}",
            "purpose_ids": [str(views.world.purpose.id)],
            "due_on": "2026-12-24",
        }
        made = await views.client.post(PATH, json=body, headers=headers)
        assert made.status_code == 201, made.text
        position = made.json()["position"]
        page = await views.get(PATH, headers, min_position=position, limit=200)
        assert [i["commitment_id"] for i in page["items"]][-1] == made.json()["stream_id"]
        assert len(page["items"]) == n + 1


async def test_a_position_not_reached_in_time_is_503_with_retry_after(views: Views) -> None:
    async with views.unapplied("amina") as position:
        r = await views.client.get(
            PATH, params={"min_position": position}, headers=await views.as_("auditor")
        )
    assert r.status_code == 503 and r.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    "path",
    [
        PATH,
        "/leaders/{id}/commitments",
        "/purposes/{id}/view",
        "/meetings/{id}/view",
        "/forums/{id}/agreements",
    ],
)
@pytest.mark.parametrize("position", [0, -1])
async def test_a_position_that_names_no_event_is_refused_at_once(
    views: Views, path: str, position: int
) -> None:
    url = path.format(id=uuid.uuid4())
    r = await views.client.get(
        url, params={"min_position": position}, headers=await views.as_("auditor")
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["min_position"]


async def test_an_unknown_forum_or_leader_filter_finds_nothing(views: Views) -> None:
    await views.commit("amina")
    assert await listed(views, forum_id=str(uuid.uuid4())) == []
    assert await listed(views, owner_id=str(uuid.uuid4())) == []


async def test_the_page_has_the_documented_shape(views: Views) -> None:
    """The database renders the items; the page must decode as its documented schema."""
    await views.commit("amina", due_on=date(2026, 11, 20))
    r = await views.client.get(
        PATH, params={"min_position": views.position}, headers=await views.as_("auditor")
    )
    assert r.status_code == 200, r.text
    page = msgspec.json.decode(r.content, type=CommitmentPage)
    assert len(page.items) == 1 and page.items[0].overdue and page.next_cursor is None
