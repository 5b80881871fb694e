"""The leader view over the real app: groups, day boundaries per time zone, filters, access."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from projections.consistency import wait_until
from projections.queries.leader_view import READS, LeaderCommitments, Options, computed
from projections.queries.sql import Scope
from projections.runner import BATCH, LOCK_BATCH
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.clock import Clock
from tracker import tokens
from tracker.domain import Commitment, Forum, Purpose
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
MADE_ON = date(2026, 11, 1)


class Views:
    """A seeded world, a second forum in Auckland, and helpers to write and read the views."""

    def __init__(self, client: Client, repository: Repository, world: World, issue: Tokens):
        self.client, self.repository, self.world, self.issue = client, repository, world, issue
        self.position = 0
        self.headers: dict[str, dict[str, str]] = {}
        self.far: Forum | None = None
        self.far_purpose: Purpose | None = None

    def id(self, name: str) -> uuid.UUID:
        return self.world.id(name)

    async def save(self, *aggregates: Any) -> None:
        """Save and remember the position to read from."""
        result = await self.repository.save(*aggregates, context=SEEDER)
        self.position = max(self.position, result.events[-1].position)

    async def commit(
        self,
        owner: str,
        by: str | None = None,
        due_on: date | None = None,
        far: bool = False,
        made_on: date = MADE_ON,
    ) -> Commitment:
        """A commitment the owner made, or one `by` asked of them (proposed)."""
        forum = self.far if far else self.world.forum
        purpose = self.far_purpose if far else self.world.purpose
        assert forum is not None and purpose is not None
        by = by or owner
        c = Commitment.make(
            uuid.uuid4(),
            forum_id=forum.id,
            owner_id=self.id(owner),
            by=self.id(by),
            description=f"{owner} for {by}",
            purpose_ids=[purpose.id],
            made_on=made_on,
            due_on=due_on,
            requester_id=None if by == owner else self.id(by),
        )
        await self.save(c)
        return c

    @contextlib.asynccontextmanager
    async def unapplied(self, owner: str) -> AsyncIterator[int]:
        """A commitment made while the commitment views cannot apply it (their batch lock is
        held here until the block ends); yields its position."""
        async with self.issue.pool.acquire() as conn, conn.transaction():
            await conn.execute(LOCK_BATCH, BATCH, "commitment_views_v6")
            await self.commit(owner)
            yield int(await self.issue.pool.fetchval("SELECT max(position) FROM events"))

    async def as_(self, who: str) -> dict[str, str]:
        if who not in self.headers:
            kind = who if who in ("auditor", "admin", "integration") else "leader"
            leader = None if kind != "leader" else self.id(who)
            self.headers[who] = await self.issue.headers(kind, leader)
        return self.headers[who]

    async def scoped(self, forum: Forum) -> dict[str, str]:
        """An integration token limited to one forum's views."""
        token = await tokens.issue(self.issue.pool, "scoped", "integration", None, [forum.id])
        return {"Authorization": f"Bearer {token}"}

    async def view(
        self, leader: str, who: str | None = None, expect: int = 200, **params: Any
    ) -> dict[str, Any]:
        """GET the leader's view as someone (the leader by default), reading our own writes."""
        headers = await self.as_(who or leader)
        return await self.get(f"/leaders/{self.id(leader)}/commitments", headers, expect, **params)

    async def get(
        self, path: str, headers: dict[str, str], expect: int = 200, **params: Any
    ) -> dict[str, Any]:
        params.setdefault("min_position", self.position)
        r = await self.client.get(path, params=params, headers=headers)
        assert r.status_code == expect, r.text
        return dict(r.json())


async def make_views(client: Client, repository: Repository, issue: Tokens) -> Views:
    """Amina, Ben, Chloe and Dev share a London forum; Amina and Chloe also meet in Auckland."""
    world = await seed_world(repository, ("amina", "ben", "chloe", "dev"))
    v = Views(client, repository, world, issue)
    v.far = Forum.convene(uuid.uuid4(), "Aotearoa link", v.id("amina"), "Pacific/Auckland")
    v.far.join(v.id("chloe"))
    v.far_purpose = Purpose.propose(uuid.uuid4(), v.far.id, "Warm homes", v.id("amina"))
    await v.save(v.far, v.far_purpose)
    return v


@pytest.fixture
async def views(client: Client, repository: Repository, issue: Tokens) -> Views:
    return await make_views(client, repository, issue)


def ids(view: dict[str, Any], group: str) -> list[str]:
    return [i["commitment_id"] for i in view["groups"][group]]


def group_of(view: dict[str, Any], c: Commitment) -> str:
    """The one group holding the commitment."""
    found = [
        g for g, items in view["groups"].items() for i in items if i["commitment_id"] == str(c.id)
    ]
    assert len(found) == 1, found
    return found[0]


async def test_every_group_holds_each_commitment_once_with_counts(views: Views) -> None:
    a, b, c = views.id("amina"), views.id("ben"), views.id("chloe")
    proposal = await views.commit("amina", by="ben", due_on=date(2026, 11, 20))
    handover = await views.commit("ben", due_on=date(2027, 3, 1))
    handover.offer_handover(b, a)
    counter = await views.commit("ben", by="amina")
    counter.counter_offer(b, date(2027, 1, 15))
    reneg = await views.commit("ben", by="amina", due_on=date(2026, 12, 20))
    reneg.accept(b)
    reneg.renegotiate(b, "the venue moved", date(2027, 1, 20))
    ack = await views.commit("chloe", by="amina")
    ack.accept(c)
    ack.complete(c)
    overdue = await views.commit("amina", due_on=date(2026, 11, 25))
    soon = await views.commit("amina", due_on=date(2026, 12, 10))
    later = await views.commit("amina", due_on=date(2026, 12, 11))
    undated = await views.commit("amina")
    asked = await views.commit("ben", by="amina", due_on=date(2026, 11, 2))  # awaits Ben
    done = await views.commit("amina")
    done.release(a, "funding moved to the county")
    await views.commit("ben")  # not Amina's
    await views.save(handover, counter, reneg, ack, done)

    view = await views.view("amina")

    awaiting = {i["commitment_id"]: i["awaiting"] for i in view["groups"]["awaiting_response"]}
    assert awaiting == {
        str(proposal.id): "proposal",
        str(handover.id): "handover",
        str(counter.id): "counter_offer",
        str(reneg.id): "renegotiation",
        str(ack.id): "acknowledgement",
    }
    assert ids(view, "overdue") == [str(asked.id), str(overdue.id)]  # earliest due first
    assert ids(view, "due_soon") == [str(soon.id)]
    assert ids(view, "active") == [str(later.id)]
    assert ids(view, "no_due_date") == [str(undated.id)]
    assert ids(view, "recently_finished") == [str(done.id)]
    assert view["counts"] == {g: len(items) for g, items in view["groups"].items()}
    assert sum(view["counts"].values()) == 11
    # Awaiting wins over overdue, but the item still says it is overdue.
    first = view["groups"]["awaiting_response"]
    assert next(i for i in first if i["commitment_id"] == str(proposal.id))["overdue"] is True
    item = view["groups"]["overdue"][0]
    assert item["role"] == "requester" and item["owner_id"] == str(b)
    assert item["requester_id"] == str(a) and item["forum_name"] == "Warm spaces partnership"
    assert item["purpose_ids"] == [str(views.world.purpose.id)]  # type: ignore[union-attr]
    assert view["evaluated_at"] == "2026-11-26T10:00:00Z"
    assert view["today"] == [
        {"forum_id": str(views.world.forum.id), "timezone": "Europe/London", "today": "2026-11-26"}  # type: ignore[union-attr]
    ]


async def test_items_show_original_and_current_due_dates_renegotiations_and_progress(
    views: Views,
) -> None:
    a = views.id("amina")
    c = await views.commit("amina", due_on=date(2026, 12, 1))
    c.renegotiate(a, "the hall is booked", date(2027, 2, 1))
    c.report_progress(a, 40)
    await views.save(c)
    (item,) = (await views.view("amina"))["groups"]["active"]
    assert (item["original_due_on"], item["due_on"]) == ("2026-12-01", "2027-02-01")
    assert (item["renegotiation_count"], item["progress"], item["status"]) == (1, 40, "active")
    assert item["role"] == "owner" and item["overdue"] is False


@pytest.mark.parametrize(
    ("moment", "group"),
    [
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), "due_soon"),
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "due_soon"),  # due today in London
        (datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC), "due_soon"),
        (datetime(2026, 12, 2, 0, 0, tzinfo=UTC), "overdue"),  # 00:00 in London
    ],
)
async def test_overdue_flips_at_midnight_in_london(
    views: Views, clock: Clock, moment: datetime, group: str
) -> None:
    c = await views.commit("amina", due_on=date(2026, 12, 1))
    clock.moment = moment
    assert group_of(await views.view("amina"), c) == group


@pytest.mark.parametrize(
    ("moment", "group", "today"),
    [
        (datetime(2026, 11, 30, 10, 59, tzinfo=UTC), "due_soon", "2026-11-30"),
        (datetime(2026, 11, 30, 11, 0, tzinfo=UTC), "due_soon", "2026-12-01"),
        (datetime(2026, 12, 1, 10, 59, tzinfo=UTC), "due_soon", "2026-12-01"),
        (datetime(2026, 12, 1, 11, 0, tzinfo=UTC), "overdue", "2026-12-02"),  # NZDT is UTC+13
    ],
)
async def test_overdue_flips_at_midnight_in_the_forums_own_time_zone(
    views: Views, clock: Clock, moment: datetime, group: str, today: str
) -> None:
    far = await views.commit("amina", due_on=date(2026, 12, 1), far=True)
    near = await views.commit("amina", due_on=date(2026, 12, 1))
    clock.moment = moment
    view = await views.view("amina")
    assert group_of(view, far) == group
    assert group_of(view, near) == "due_soon"  # London is still on or before 1 December
    assert {f["timezone"]: f["today"] for f in view["today"]}["Pacific/Auckland"] == today


async def test_the_due_soon_window_edge_and_its_size(views: Views) -> None:
    today = await views.commit("amina", due_on=date(2026, 11, 26))
    edge = await views.commit("amina", due_on=date(2026, 12, 10))  # today + 14
    beyond = await views.commit("amina", due_on=date(2026, 12, 11))
    view = await views.view("amina")
    assert set(ids(view, "due_soon")) == {str(today.id), str(edge.id)}
    assert ids(view, "active") == [str(beyond.id)]
    view = await views.view("amina", due_soon_days=0)
    assert ids(view, "due_soon") == [str(today.id)] and view["due_soon_days"] == 0
    view = await views.view("amina", due_soon_days=15)
    assert len(ids(view, "due_soon")) == 3
    for bad in (-1, 366):
        await views.view("amina", expect=422, due_soon_days=bad)


async def test_recently_finished_is_a_window_back_from_the_clock(
    views: Views, clock: Clock
) -> None:
    done = await views.commit("amina")
    done.complete(views.id("amina"))
    await views.save(done)
    assert ids(await views.view("amina"), "recently_finished") == [str(done.id)]
    clock.moment += timedelta(days=31)
    assert ids(await views.view("amina"), "recently_finished") == []
    view = await views.view("amina", finished_days=60)
    assert ids(view, "recently_finished") == [str(done.id)] and view["finished_days"] == 60


async def test_filters_by_role_forum_purpose_and_status(views: Views) -> None:
    a, b = views.id("amina"), views.id("ben")
    mine = await views.commit("amina", due_on=date(2027, 1, 1))
    asked = await views.commit("ben", by="amina")
    offered = await views.commit("ben")
    offered.offer_handover(b, a)
    far = await views.commit("amina", far=True)
    await views.save(offered)

    def everything(view: dict[str, Any]) -> set[str]:
        return {i["commitment_id"] for items in view["groups"].values() for i in items}

    assert everything(await views.view("amina", role="owner")) == {
        str(mine.id),
        str(offered.id),
        str(far.id),
    }
    assert everything(await views.view("amina", role="requester")) == {str(asked.id)}
    assert everything(await views.view("amina", forum_id=str(views.far.id))) == {str(far.id)}  # type: ignore[union-attr]
    purpose = str(views.far_purpose.id)  # type: ignore[union-attr]
    assert everything(await views.view("amina", purpose_id=purpose)) == {str(far.id)}
    assert everything(await views.view("amina", status="proposed")) == {str(asked.id)}
    both = await views.view("amina", status=["proposed", "active"])
    assert len(everything(both)) == 4
    assert everything(await views.view("amina", status="proposed,active")) == everything(both)
    problem = await views.view("amina", expect=422, status="active,lost")
    assert problem["errors"][0]["field"] == "status"
    await views.view("amina", expect=422, role="steward")


async def test_a_leader_sees_another_leaders_actions_only_in_forums_they_share(
    views: Views,
) -> None:
    near = await views.commit("amina")
    far = await views.commit("amina", far=True)
    everywhere = {str(near.id), str(far.id)}

    def seen(view: dict[str, Any]) -> set[str]:
        return set(ids(view, "no_due_date"))

    assert seen(await views.view("amina")) == everywhere
    assert seen(await views.view("amina", who="chloe")) == everywhere  # in both forums
    assert seen(await views.view("amina", who="ben")) == {str(near.id)}  # London only
    assert seen(await views.view("amina", who="auditor")) == everywhere
    assert seen(await views.view("amina", who="admin")) == everywhere
    assert seen(await views.view("amina", who="integration")) == everywhere  # not limited
    outsider = await views.view("amina", who="dev")  # Dev is in the London forum too
    assert seen(outsider) == {str(near.id)}


async def test_an_outsider_sees_nothing_and_an_unknown_leader_is_404(
    views: Views, repository: Repository
) -> None:
    await views.commit("amina")
    assert views.world.forum is not None
    views.world.forum.leave(views.id("dev"))
    await views.save(views.world.forum)
    view = await views.view("amina", who="dev")
    assert view["counts"] == dict.fromkeys(view["counts"], 0) and view["today"] == []
    await views.get(f"/leaders/{uuid.uuid4()}/commitments", await views.as_("amina"), 404)
    r = await views.client.get(f"/leaders/{views.id('amina')}/commitments")
    assert r.status_code == 401


async def test_an_integration_sees_only_the_forums_its_token_is_limited_to(views: Views) -> None:
    await views.commit("amina")
    far = await views.commit("amina", far=True)
    assert views.far is not None
    headers = await views.scoped(views.far)
    view = await views.get(f"/leaders/{views.id('amina')}/commitments", headers)
    assert ids(view, "no_due_date") == [str(far.id)]


async def test_a_command_is_visible_at_once_with_its_min_position(views: Views) -> None:
    assert views.world.forum is not None and views.world.purpose is not None
    headers = await views.as_("amina")
    path = f"/leaders/{views.id('amina')}/commitments"
    for n in range(20):
        body = {
            "forum_id": str(views.world.forum.id),
            "owner_id": str(views.id("amina")),
            "description": f"Open the library, evening {n}",
            "purpose_ids": [str(views.world.purpose.id)],
        }
        made = await views.client.post("/commitments", json=body, headers=headers)
        assert made.status_code == 201, made.text
        view = await views.get(path, headers, min_position=made.json()["position"])
        assert made.json()["stream_id"] in ids(view, "no_due_date")
        assert view["counts"]["no_due_date"] == n + 1


async def test_a_position_not_reached_in_time_is_503_with_retry_after(views: Views) -> None:
    async with views.unapplied("amina") as position:
        r = await views.client.get(
            f"/leaders/{views.id('amina')}/commitments",
            params={"min_position": position},
            headers=await views.as_("amina"),
        )
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1"
    assert r.json()["type"].endswith("/not-yet-visible")


async def test_a_position_no_event_has_is_refused_at_once(views: Views) -> None:
    newest = await views.issue.pool.fetchval("SELECT max(position) FROM events")
    # A gap: the position was drawn for an append that rolled back.
    async with views.issue.pool.acquire() as conn:
        gap = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('events', 'position'))")
    await views.commit("amina")
    for missing in (gap, newest + 1000):
        r = await views.client.get(
            f"/leaders/{views.id('amina')}/commitments",
            params={"min_position": missing},
            headers=await views.as_("amina"),
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "min_position"
        assert r.elapsed.total_seconds() < 1  # no two-second wait for an event that cannot come


async def test_the_answer_has_the_documented_shape(views: Views) -> None:
    """The database renders the view; it must decode as the schema the OpenAPI document gives."""
    done = await views.commit("amina", due_on=date(2026, 11, 20))
    done.complete(views.id("amina"))
    await views.commit("amina", by="ben", due_on=date(2026, 12, 1))
    await views.save(done)
    r = await views.client.get(
        f"/leaders/{views.id('amina')}/commitments",
        params={"min_position": views.position},
        headers=await views.as_("amina"),
    )
    assert r.status_code == 200, r.text
    view = msgspec.json.decode(r.content, type=LeaderCommitments)
    assert view.counts.awaiting_response == 1 and view.counts.recently_finished == 1
    (finished,) = view.groups.recently_finished
    assert finished.finished_at is not None and finished.finished_at.tzinfo is not None
    assert r.json()["groups"]["recently_finished"][0]["created_at"].endswith("Z")


async def test_a_read_without_min_position_sees_what_the_projection_has_applied(
    views: Views, pool: asyncpg.Pool
) -> None:
    """Repeated reads may be served again, but never once the projection has moved on."""
    headers = await views.as_("amina")
    path = f"/leaders/{views.id('amina')}/commitments"
    await views.commit("amina")
    before = await views.get(path, headers)
    for n in range(5):
        again = await views.client.get(path, headers=headers)
        assert again.json() == before
        made = await views.commit("amina")
        # Wait for the projection without reading this view, then read it as anyone would.
        assert await wait_until(pool, views.position, READS)
        after = (await views.client.get(path, headers=headers)).json()
        assert str(made.id) in ids(after, "no_due_date")
        assert after["counts"]["no_due_date"] == n + 2
        before = after


async def test_a_view_holds_until_the_moment_it_says_it_next_changes(
    views: Views, pool: asyncpg.Pool, clock: Clock
) -> None:
    """What serving a view again rests on: computed at any moment up to changes_at, it is the
    same; at changes_at a forum's date turns over or a finished commitment leaves the window."""
    now = clock()
    await views.commit("amina", due_on=now.date(), far=True)  # Auckland
    await views.commit("amina", due_on=now.date() + timedelta(days=1))  # London
    done = await views.commit("amina")
    done.complete(views.id("amina"))
    await views.save(done)
    assert await wait_until(pool, views.position, READS)
    amina, options = views.id("amina"), Options(finished_days=1)
    moment, turns = clock(), []
    while len(turns) < 4:
        fresh = await computed(pool, amina, moment, options, Scope())
        assert fresh is not None and fresh.changes_at is not None and fresh.changes_at > moment
        just_before = fresh.changes_at - timedelta(microseconds=1)
        assert (await computed(pool, amina, just_before, options, Scope())) == fresh
        turned = await computed(pool, amina, fresh.changes_at, options, Scope())
        assert turned is not None and turned.value != fresh.value
        moment = fresh.changes_at
        turns.append(msgspec.json.decode(turned.value))
    # Both forums' midnights and the finished commitment leaving were among the turns.
    assert {t["counts"]["recently_finished"] for t in turns} == {0, 1}
    todays = {(f["timezone"], f["today"]) for t in turns for f in t["today"]}
    assert len({zone for zone, _ in todays}) == 2 and len(todays) >= 4
