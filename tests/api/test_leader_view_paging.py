"""The leader view a page at a time: full counts, a page of each group, cursors per group."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from projections.consistency import wait_until
from projections.queries.leader_view import GROUPS, READS, Options, computed
from projections.queries.paging import encode
from projections.queries.sql import Scope
from tests.api.conftest import Tokens
from tests.api.test_leader_view import Client, Views, ids, make_views
from tests.clock import Clock
from tracker.eventstore.repository import Repository


@pytest.fixture
async def views(client: Client, repository: Repository, issue: Tokens) -> Views:
    return await make_views(client, repository, issue)


async def seven_undated_and_seven_finished(views: Views, clock: Clock) -> None:
    """Seven open commitments made at one moment (so only ids order them), and seven finished
    over nine minutes, two of them at one moment."""
    for _ in range(7):
        await views.commit("amina")
    for n in range(7):
        done = await views.commit("amina", due_on=date(2026, 12, n + 1) if n % 2 else None)
        clock.moment += timedelta(minutes=n % 4)
        done.complete(views.id("amina"))
        await views.save(done)


async def pages(views: Views, group: str, limit: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Every item of a group, read a page at a time through its cursors; and the pages."""
    first = await views.view("amina", limit=limit)
    seen, answers = ids(first, group), [first]
    cursor = first["cursors"][group]
    while cursor is not None:
        page = await views.view("amina", limit=limit, group=group, cursor=cursor)
        answers.append(page)
        seen += ids(page, group)
        cursor = page["cursors"][group]
    return seen, answers


@pytest.mark.parametrize("group", ["no_due_date", "recently_finished"])
async def test_paging_through_a_group_lists_each_commitment_once_in_order(
    views: Views, clock: Clock, group: str
) -> None:
    await seven_undated_and_seven_finished(views, clock)
    whole = await views.view("amina", limit=200)
    assert whole["counts"][group] == 7 and whole["cursors"][group] is None
    seen, answers = await pages(views, group, 3)
    assert seen == ids(whole, group)  # the same order, none repeated, none skipped
    assert [len(ids(a, group)) for a in answers] == [3, 3, 1]
    for later in answers[1:]:
        # Only the asked group is listed; the counts and dates are the whole view's.
        assert later["group"] == group and later["limit"] == 3
        assert later["counts"] == whole["counts"] and later["today"] == whole["today"]
        others = [g for g in GROUPS if g != group]
        assert all(later["groups"][g] == [] and later["cursors"][g] is None for g in others)


async def test_recently_finished_lists_the_latest_finished_first(
    views: Views, clock: Clock
) -> None:
    await seven_undated_and_seven_finished(views, clock)
    seen, _ = await pages(views, "recently_finished", 2)
    view = await views.view("amina")
    finished = [i["finished_at"] for i in view["groups"]["recently_finished"]]
    assert finished == sorted(finished, reverse=True) and len(set(finished)) == 6  # one tie
    assert seen == ids(view, "recently_finished")


async def test_the_first_page_of_every_group_is_cut_to_the_limit_and_counts_are_full(
    views: Views, clock: Clock
) -> None:
    await seven_undated_and_seven_finished(views, clock)
    view = await views.view("amina", limit=2)
    assert view["limit"] == 2 and view["group"] is None
    assert view["counts"]["no_due_date"] == 7 and view["counts"]["recently_finished"] == 7
    assert len(view["groups"]["no_due_date"]) == 2
    assert len(view["groups"]["recently_finished"]) == 2
    assert view["cursors"]["overdue"] is None and view["groups"]["overdue"] == []
    # group alone lists that group's first page.
    alone = await views.view("amina", limit=2, group="no_due_date")
    assert ids(alone, "no_due_date") == ids(view, "no_due_date")
    assert alone["groups"]["recently_finished"] == []


async def test_the_default_page_is_fifty(views: Views) -> None:
    for _ in range(51):
        await views.commit("amina")
    view = await views.view("amina")
    assert view["counts"]["no_due_date"] == 51 and len(view["groups"]["no_due_date"]) == 50
    assert view["limit"] == 50 and view["cursors"]["no_due_date"] is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "",
        encode(["no_due_date", None, None, "2026-11-26T10:00:00", "0" * 32]),  # no offset
        encode(["someone_elses", None, None, "2026-11-26T10:00:00Z", "0" * 32]),
        encode(["recently_finished", None, None, "2026-11-26T10:00:00Z", "0" * 32]),
        encode(["no_due_date", None, None, "3000-01-01T00:00:00Z", "0" * 32]),
    ],
)
async def test_a_cursor_the_api_did_not_hand_out_is_422_naming_cursor(
    views: Views, cursor: str
) -> None:
    await views.commit("amina")
    problem = await views.view("amina", expect=422, cursor=cursor, group="no_due_date")
    assert problem["errors"][0]["field"] == "cursor"


async def test_a_cursor_of_another_group_is_422(views: Views, clock: Clock) -> None:
    await seven_undated_and_seven_finished(views, clock)
    cursor = (await views.view("amina", limit=3))["cursors"]["no_due_date"]
    problem = await views.view("amina", expect=422, cursor=cursor, group="recently_finished")
    assert problem["errors"][0]["field"] == "cursor"
    # Without group, the cursor names its own.
    page = await views.view("amina", limit=3, cursor=cursor)
    assert page["group"] == "no_due_date" and len(ids(page, "no_due_date")) == 3


@pytest.mark.parametrize(("name", "value"), [("limit", 0), ("limit", 201), ("group", "later")])
async def test_a_limit_or_group_out_of_bounds_is_422(views: Views, name: str, value: Any) -> None:
    problem = await views.view("amina", expect=422, **{name: value})
    assert problem["errors"][0]["field"] == name


async def test_a_page_holds_until_the_moment_it_says_it_next_changes(
    views: Views, pool: asyncpg.Pool, clock: Clock
) -> None:
    """A page alone is served again on the whole view's changes_at: one page can change when a
    commitment on another page leaves its group."""
    await seven_undated_and_seven_finished(views, clock)
    await views.commit("amina", due_on=clock.days(1), far=True)
    assert await wait_until(pool, views.position, READS)
    amina = views.id("amina")
    first = await views.view("amina", limit=3)
    options = Options(
        finished_days=1,
        limit=3,
        group="recently_finished",
        cursor=first["cursors"]["recently_finished"],
    )
    moment = clock()
    fresh = await computed(pool, amina, moment, options, Scope())
    assert fresh is not None and fresh.changes_at is not None
    just_before = fresh.changes_at - timedelta(microseconds=1)
    assert await computed(pool, amina, just_before, options, Scope()) == fresh
    turned = await computed(pool, amina, fresh.changes_at, options, Scope())
    assert turned is not None and turned.value != fresh.value
