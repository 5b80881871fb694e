"""Reading history over a throwaway app: the log, one stream, a commitment's changes, and the
access log of auditors' reads."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from projections.queries.cache import ViewCache
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.clock import Clock
from tests.projections.history import History
from tracker.api import problems
from tracker.api.dependencies import (
    authenticate,
    provide_call,
    provide_commands,
    provide_principal,
    provide_repository,
)
from tracker.api.openapi import finish
from tracker.api.resources import history_text
from tracker.api.resources.commitments import CommitmentState
from tracker.api.resources.history import (
    CommitmentHistoryController,
    EventLogController,
    StreamEventsController,
)
from tracker.api.resources.history_text import UNCHANGING
from tracker.api.time_travel import provide_views
from tracker.api.view_limits import Admissions, ViewLimits
from tracker.application.audit import LOG_RULE, STREAM_RULE
from tracker.application.ports import Context
from tracker.domain import Agreement, Commitment, Leader
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository
from tracker.tokens import Authenticator

Client = httpx.AsyncClient
MADE_ON = date(2026, 11, 1)
ALL_EVENTS = """
SELECT position, transaction_id, stream_id, version, type, actor, on_behalf_of, source,
       recorded_at, encode(hash, 'hex') AS hash
FROM events ORDER BY transaction_id, position
"""
# Another transaction anywhere on the server holds the log's horizon back for a moment.
BEHIND_HORIZON = """
SELECT count(*) FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())
"""
ACCESS_LOG = (
    "SELECT token_id, token_name, kind, method, path, query, at FROM access_log ORDER BY id"
)


def history_app(pool: asyncpg.Pool, repository: Repository, now: Clock, *handlers: Any) -> Litestar:
    """The controllers under test with create_app's dependencies, guard, errors and hook."""
    state = State(
        {
            "pool": pool,
            "store": repository.store,
            "repository": repository,
            "authenticator": Authenticator(pool),
            "view_cache": ViewCache(pool),
            "now": now,
            "admissions": Admissions(ViewLimits()),
        }
    )
    return Litestar(
        route_handlers=[
            EventLogController,
            StreamEventsController,
            CommitmentHistoryController,
            *handlers,
        ],
        dependencies={
            "principal": Provide(provide_principal, sync_to_thread=False),
            "call": Provide(provide_call),
            "commands": Provide(provide_commands, sync_to_thread=False),
            "repository": Provide(provide_repository, sync_to_thread=False),
            "views": Provide(provide_views, sync_to_thread=False),
        },
        exception_handlers={Exception: problems.handle},
        before_request=authenticate,
        state=state,
    )


async def settled(pool: asyncpg.Pool, seconds: float = 10.0) -> None:
    """Wait until every event is below the horizon, so readers see the whole log."""
    deadline = asyncio.get_running_loop().time() + seconds
    while await pool.fetchval(BEHIND_HORIZON):
        assert asyncio.get_running_loop().time() < deadline, "the horizon did not move"
        await asyncio.sleep(0.01)


@pytest.fixture
async def client(pool: asyncpg.Pool, repository: Repository) -> AsyncIterator[Client]:
    # On the test's own event loop (AsyncTestClient runs the app on another), so the app can
    # share the test's pool.
    transport = httpx.ASGITransport(app=history_app(pool, repository, Clock()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class Story:
    """A forum of three, an outsider, and one commitment that goes through a few changes."""

    def __init__(self, repository: Repository, world: World, tokens: Tokens) -> None:
        self.repository, self.world, self.tokens = repository, world, tokens
        self.outsider: Leader | None = None
        self.commitment: Commitment | None = None
        self.contexts: list[Context] = []

    @property
    def c(self) -> Commitment:
        assert self.commitment is not None
        return self.commitment

    async def headers(self, kind: str, who: str | None = None) -> dict[str, str]:
        if who == "outsider":
            assert self.outsider is not None
            return await self.tokens.headers(kind, self.outsider.id)
        return await self.tokens.headers(kind, self.world.id(who) if who else None)

    async def save(self, *aggregates: Any, context: Context) -> None:
        self.contexts.append(context)
        await self.repository.save(*aggregates, context=context)


@pytest.fixture
async def story(
    repository: Repository, pool: asyncpg.Pool, store: EventStore, database_url: str
) -> Story:
    world = await seed_world(repository)
    s = Story(repository, world, Tokens(pool))
    s.outsider = Leader.register(uuid.uuid4(), "Olu", "olu@example.org")
    await repository.save(s.outsider, context=SEEDER)
    amina, ben = world.id("amina"), world.id("ben")
    assert world.forum is not None and world.purpose is not None
    s.commitment = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=amina,
        by=amina,
        description="Open the library on weekday evenings",
        purpose_ids=[world.purpose.id],
        made_on=MADE_ON,
        due_on=date(2026, 12, 1),
    )
    as_amina = Context(actor=f"leader:{amina}", source="api:leader")
    await s.save(s.commitment, context=as_amina)
    s.c.renegotiate(amina, "staff sickness", date(2026, 12, 15))
    await s.save(s.c, context=as_amina)
    s.c.report_progress(amina, 40, "two of five sites open")
    recorder = Context(actor="integration:minutes", on_behalf_of=str(ben), source="minutes-tool")
    await s.save(s.c, context=recorder)
    s.c.comment(ben, "Thanks, noted")
    await s.save(s.c, context=recorder)
    await settled(repository.store.pool)
    # Actors' names come from the views: the story is read once they hold it.
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    await runner.run_until_caught_up()
    return s


async def all_events(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch(ALL_EVENTS)]


async def read_log(client: Client, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end, checking every page on the way."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get("/events", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["events"]) <= params.get("limit", 100)
        events += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events
        assert page["resume_cursor"] == cursor


# GET /events


async def test_the_log_lists_every_event_in_global_order_with_its_envelope(
    client: Client, story: Story, pool: asyncpg.Pool
) -> None:
    auditor = await story.headers("auditor")
    response = await client.get("/events", headers=auditor)
    assert response.status_code == 200, response.text
    page = response.json()
    stored = await all_events(pool)
    assert [e["position"] for e in page["events"]] == [e["position"] for e in stored]
    assert page["next_cursor"] is None
    for got, want in zip(page["events"], stored, strict=True):
        assert got["hash"] == want["hash"]
        assert got["transaction_id"] == want["transaction_id"]
        assert got["actor"] == want["actor"]
        assert datetime.fromisoformat(got["recorded_at"]) == want["recorded_at"]
    renegotiated = next(e for e in page["events"] if e["type"] == "commitment.renegotiated")
    assert set(renegotiated) == {
        "position",
        "transaction_id",
        "stream_id",
        "stream_type",
        "version",
        "type",
        "type_version",
        "payload",
        "occurred_at",
        "recorded_at",
        "actor",
        "on_behalf_of",
        "source",
        "correlation_id",
        "causation_id",
        "hash",
    }
    assert renegotiated["stream_id"] == str(story.c.id)
    assert renegotiated["version"] == 2
    assert renegotiated["payload"]["due_on"] == "2026-12-15"
    assert renegotiated["payload"]["reason"] == "staff sickness"
    assert renegotiated["source"] == "api:leader"


async def test_pages_follow_each_other_without_gaps_or_duplicates(
    client: Client, story: Story, pool: asyncpg.Pool, repository: Repository
) -> None:
    auditor = await story.headers("auditor")
    stored = [e["position"] for e in await all_events(pool)]
    for limit in (1, 4, 7, len(stored), 1000):
        pages = await read_log(client, auditor, limit=limit)
        assert [e["position"] for e in pages] == stored, limit

    # The last page's resume_cursor picks up exactly what is appended later.
    last = (await client.get("/events", params={"limit": 1000}, headers=auditor)).json()
    assert last["next_cursor"] is None
    story.c.report_progress(story.world.id("amina"), 60)
    await repository.save(story.c, context=SEEDER)
    await settled(pool)
    later = await client.get("/events", params={"cursor": last["resume_cursor"]}, headers=auditor)
    assert [e["type"] for e in later.json()["events"]] == ["commitment.progress_reported"]
    empty = await client.get(
        "/events", params={"cursor": later.json()["resume_cursor"]}, headers=auditor
    )
    assert empty.json()["events"] == []
    assert empty.json()["resume_cursor"] == later.json()["resume_cursor"]


async def test_filters_select_events_by_stream_type_actor_source_and_time(
    client: Client, story: Story, pool: asyncpg.Pool
) -> None:
    auditor = await story.headers("auditor")
    stored = await all_events(pool)
    amina, ben = story.world.id("amina"), story.world.id("ben")

    async def positions(**params: Any) -> list[int]:
        return [e["position"] for e in await read_log(client, auditor, limit=2, **params)]

    def expect(keep: Any) -> list[int]:
        return [e["position"] for e in stored if keep(e)]

    c = story.c.id
    assert await positions(stream_id=str(c)) == expect(lambda e: e["stream_id"] == c)
    mine = await read_log(client, auditor, stream_type="commitment")
    assert {e["stream_type"] for e in mine} == {"commitment"} and len(mine) == 4
    assert await positions(type="commitment.commented") == expect(
        lambda e: e["type"] == "commitment.commented"
    )
    assert await positions(actor=f"leader:{amina}") == expect(
        lambda e: e["actor"] == f"leader:{amina}"
    )
    assert await positions(on_behalf_of=str(ben)) == expect(lambda e: e["on_behalf_of"] == str(ben))
    assert await positions(source="minutes-tool", type="commitment.progress_reported") == expect(
        lambda e: e["source"] == "minutes-tool" and e["type"] == "commitment.progress_reported"
    )
    assert await positions(actor="nobody") == []

    # Each save is its own transaction with its own recorded_at: split the log at one of them.
    boundary = next(e for e in stored if e["type"] == "commitment.renegotiated")["recorded_at"]
    at = boundary.isoformat()
    assert await positions(recorded_after=at) == expect(lambda e: e["recorded_at"] >= boundary)
    assert await positions(recorded_before=at) == expect(lambda e: e["recorded_at"] < boundary)
    end = (boundary + timedelta(microseconds=1)).isoformat()
    assert await positions(recorded_after=at, recorded_before=end) == expect(
        lambda e: e["recorded_at"] == boundary
    )
    assert len(await positions(recorded_after=at, recorded_before=end)) == 1


async def test_only_auditors_and_admins_read_the_log(client: Client, story: Story) -> None:
    assert (await client.get("/events", headers=await story.headers("admin"))).status_code == 200
    for kind, who in (("leader", "amina"), ("integration", None)):
        response = await client.get("/events", headers=await story.headers(kind, who))
        assert response.status_code == 403
        assert response.json()["rule"] == LOG_RULE
        assert response.headers["content-type"].startswith("application/problem+json")
    unauthorised = await client.get("/events")
    assert unauthorised.status_code == 401
    assert unauthorised.json()["type"].endswith("/unauthorized")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        base64.urlsafe_b64encode(b"[-1, 5]").decode(),
        base64.urlsafe_b64encode(b'["1", "5"]').decode(),
        base64.urlsafe_b64encode(b"[1, 99999999999999999999999]").decode(),
        "",
    ],
)
async def test_a_bad_cursor_is_a_problem_naming_the_cursor(
    client: Client, story: Story, cursor: str
) -> None:
    response = await client.get(
        "/events", params={"cursor": cursor}, headers=await story.headers("auditor")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "many"},
        {"stream_id": "nope"},
        {"recorded_after": "yesterday"},
        {"recorded_after": "2026-11-26T10:00:00"},
        {"actor": "nul\x00here"},
        {"type": "x" * 401},
    ],
)
async def test_bad_parameters_are_client_errors(
    client: Client, story: Story, params: dict[str, Any]
) -> None:
    response = await client.get("/events", params=params, headers=await story.headers("auditor"))
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# GET /streams/{id}/events


async def test_a_stream_reads_in_version_order_a_page_at_a_time(
    client: Client, story: Story, pool: asyncpg.Pool
) -> None:
    auditor = await story.headers("auditor")
    whole = (await client.get(f"/streams/{story.c.id}/events", headers=auditor)).json()
    assert whole["stream_type"] == "commitment" and whole["version"] == 4
    assert [e["version"] for e in whole["events"]] == [1, 2, 3, 4]
    assert whole["next_after_version"] is None
    log = await read_log(client, auditor, stream_id=str(story.c.id))
    assert whole["events"] == log

    for limit in (1, 2, 3):
        seen: list[dict[str, Any]] = []
        after: int | None = 0
        while after is not None:
            page = await client.get(
                f"/streams/{story.c.id}/events",
                params={"after_version": after, "limit": limit},
                headers=auditor,
            )
            assert page.status_code == 200, page.text
            seen += page.json()["events"]
            after = page.json()["next_after_version"]
        assert seen == whole["events"], limit
    beyond = await client.get(
        f"/streams/{story.c.id}/events", params={"after_version": 9}, headers=auditor
    )
    assert beyond.json()["events"] == [] and beyond.json()["next_after_version"] is None


async def test_leaders_read_the_streams_of_forums_they_can_see(
    client: Client, story: Story, repository: Repository
) -> None:
    world = story.world
    assert world.forum is not None and world.purpose is not None
    agreement = Agreement.propose(
        uuid.uuid4(),
        "purpose",
        world.purpose.id,
        "expectation",
        "Rotas",
        "Share rotas",
        world.id("amina"),
    )
    await repository.save(agreement, context=SEEDER)
    member, outsider = (
        await story.headers("leader", "ben"),
        await story.headers("leader", "outsider"),
    )
    for stream in (story.c.id, world.forum.id, world.purpose.id, agreement.id):
        assert (await client.get(f"/streams/{stream}/events", headers=member)).status_code == 200
        refused = await client.get(f"/streams/{stream}/events", headers=outsider)
        unknown = await client.get(f"/streams/{uuid.uuid4()}/events", headers=outsider)
        # Answered as an unknown stream is: a refusal would confirm that the stream exists.
        assert refused.status_code == unknown.status_code == 404
        assert refused.json()["type"] == unknown.json()["type"] and "rule" not in refused.json()

    # Leader and organisation streams belong to no forum: auditors and admins only.
    leader_stream = f"/streams/{world.id('ben')}/events"
    organisation_stream = f"/streams/{world.organisations['ben'].id}/events"
    for path in (leader_stream, organisation_stream):
        refused = await client.get(path, headers=member)
        assert refused.status_code == 403 and refused.json()["rule"] == STREAM_RULE
        for kind in ("auditor", "admin"):
            response = await client.get(path, headers=await story.headers(kind))
            assert response.status_code == 200

    unknown = await client.get(f"/streams/{uuid.uuid4()}/events", headers=member)
    assert unknown.status_code == 404
    assert (await client.get(f"/streams/{story.c.id}/events")).status_code == 401
    for params in ({"limit": 0}, {"after_version": -1}, {"after_version": 2**31}):
        bad = await client.get(f"/streams/{story.c.id}/events", params=params, headers=member)
        assert bad.status_code in (400, 422), params


# GET /commitments/{id}/history


async def test_history_tells_each_change_with_who_when_and_before_and_after(
    client: Client, story: Story, pool: asyncpg.Pool
) -> None:
    response = await client.get(
        f"/commitments/{story.c.id}/history", headers=await story.headers("leader", "chloe")
    )
    assert response.status_code == 200, response.text
    history = response.json()
    assert history["commitment_id"] == str(story.c.id)
    assert history["version"] == 4
    made, renegotiated, progress, comment = history["entries"]
    amina, ben = story.world.id("amina"), story.world.id("ben")

    assert made["type"] == "commitment.made"
    assert made["summary"] == (
        "Made: “Open the library on weekday evenings”, due 2026-12-01, active"
    )
    assert made["actor"] == f"leader:{amina}" and made["on_behalf_of"] is None
    assert made["actor_name"] == "Amina" and made["on_behalf_of_name"] is None
    assert made["reason"] is None and made["note"] is None
    made_changes = {c["field"]: (c["before"], c["after"]) for c in made["changes"]}
    assert made_changes["status"] == (None, "active")
    assert made_changes["due_on"] == (None, "2026-12-01")

    assert renegotiated["summary"] == (
        "Renegotiated: due date 2026-12-01 → 2026-12-15 (reason: staff sickness)"
    )
    assert {c["field"]: (c["before"], c["after"]) for c in renegotiated["changes"]} == {
        "due_on": ("2026-12-01", "2026-12-15"),
        "renegotiation_count": (0, 1),
    }
    assert renegotiated["version"] == 2 and renegotiated["source"] == "api:leader"
    assert renegotiated["reason"] == "staff sickness" and renegotiated["note"] is None

    assert progress["summary"] == "Progress reported: none → 40% (note: two of five sites open)"
    assert progress["changes"] == [{"field": "progress", "before": None, "after": 40}]
    assert progress["actor"] == "integration:minutes"
    assert progress["on_behalf_of"] == str(ben)
    assert progress["actor_name"] == "minutes" and progress["on_behalf_of_name"] == "Ben"
    assert progress["note"] == "two of five sites open" and progress["reason"] is None
    assert progress["source"] == "minutes-tool"

    assert comment["summary"] == "Comment: “Thanks, noted”"
    assert comment["changes"] == []
    stored = await pool.fetch(
        "SELECT position, occurred_at, recorded_at FROM events WHERE stream_id = $1 "
        "ORDER BY version",
        story.c.id,
    )
    for entry, row in zip(history["entries"], stored, strict=True):
        assert entry["position"] == row["position"]
        assert datetime.fromisoformat(entry["occurred_at"]) == row["occurred_at"]
        assert datetime.fromisoformat(entry["recorded_at"]) == row["recorded_at"]


async def test_history_summarises_offers_renegotiations_and_handovers(
    client: Client, story: Story, repository: Repository
) -> None:
    world = story.world
    assert world.forum is not None and world.purpose is not None
    amina, ben, chloe = world.id("amina"), world.id("ben"), world.id("chloe")
    asked = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=amina,
        by=ben,
        requester_id=ben,
        description="Print leaflets",
        purpose_ids=[world.purpose.id],
        made_on=MADE_ON,
        due_on=date(2026, 12, 1),
    )
    asked.counter_offer(amina, date(2026, 12, 10), note="printer is busy")
    asked.accept_counter_offer(ben)
    asked.renegotiate(amina, "paper shortage", date(2026, 12, 20), "Print posters")
    asked.reject_renegotiation(ben, "posters will not do")
    asked.offer_handover(amina, chloe, "over to you")
    asked.accept_handover(chloe)
    asked.complete(chloe, "all printed")
    await repository.save(asked, context=SEEDER)

    response = await client.get(
        f"/commitments/{asked.id}/history", headers=await story.headers("auditor")
    )
    assert response.status_code == 200, response.text
    summaries = [e["summary"] for e in response.json()["entries"]]
    assert summaries == [
        "Made: “Print leaflets”, due 2026-12-01, proposed",
        "Counter-offered: due date 2026-12-01 → 2026-12-10 (note: printer is busy)",
        "Counter-offer accepted: due date 2026-12-01 → 2026-12-10",
        "Renegotiation proposed: due date 2026-12-10 → 2026-12-20, "
        "description “Print leaflets” → “Print posters” (reason: paper shortage)",
        "Renegotiation rejected (reason: posters will not do)",
        f"Handover offered: to leader:{chloe} (note: over to you)",
        f"Handover accepted: owner leader:{amina} → leader:{chloe}",
        "Completed (note: all printed)",
    ]
    accepted = response.json()["entries"][2]
    assert {c["field"]: c["after"] for c in accepted["changes"]} == {
        "status": "active",
        "due_on": "2026-12-10",
        # The counter-offer is what was agreed; what was asked for, and its date, stay.
        "agreed": {"description": "Print leaflets", "due_on": "2026-12-10"},
        "counter_offer_pending": False,
    }


async def test_replaying_the_changes_gives_the_current_state(
    client: Client, story: Story, repository: Repository
) -> None:
    history = History(seed=5, leaders=12, forums=2)
    for _ in range(6):
        for _ in range(40):
            history.step()
        await history.flush(repository)
    auditor = await story.headers("auditor")
    for c in history.commitments[:25]:
        response = await client.get(f"/commitments/{c.id}/history", headers=auditor)
        assert response.status_code == 200, response.text
        entries = response.json()["entries"]
        assert len(entries) == c.version
        folded: dict[str, Any] = {}
        for entry in entries:
            for change in entry["changes"]:
                assert folded.get(change["field"]) == change["before"]
                folded[change["field"]] = change["after"]
            assert entry["summary"]
        now = msgspec.to_builtins(CommitmentState.of(await repository.get(Commitment, c.id)))
        public = {k: v for k, v in now.items() if k not in UNCHANGING}
        assert set(folded) <= set(public)
        assert {k: folded.get(k) for k in public} == public


async def test_history_is_for_those_who_see_the_forum_live(
    client: Client, story: Story, repository: Repository
) -> None:
    path = f"/commitments/{story.c.id}/history"
    for kind, who in (("leader", "ben"), ("auditor", None), ("admin", None)):
        assert (await client.get(path, headers=await story.headers(kind, who))).status_code == 200
    outsider = await story.headers("leader", "outsider")
    refused = await client.get(path, headers=outsider)
    unknown = await client.get(f"/commitments/{uuid.uuid4()}/history", headers=outsider)
    assert refused.status_code == unknown.status_code == 404
    assert refused.json()["type"] == unknown.json()["type"] and "rule" not in refused.json()

    # A leader who leaves the forum no longer sees its history.
    forum = story.world.forum
    assert forum is not None
    forum.leave(story.world.id("chloe"))
    await repository.save(forum, context=SEEDER)
    gone = await client.get(path, headers=await story.headers("leader", "chloe"))
    assert gone.status_code == 404

    auditor = await story.headers("auditor")
    assert (
        await client.get(f"/commitments/{uuid.uuid4()}/history", headers=auditor)
    ).status_code == 404
    not_a_commitment = await client.get(f"/commitments/{forum.id}/history", headers=auditor)
    assert not_a_commitment.status_code == 404
    assert (await client.get(path)).status_code == 401


# The access log


async def test_every_auditor_request_is_logged_and_nobody_elses(
    client: Client, story: Story, pool: asyncpg.Pool
) -> None:
    auditor = await story.headers("auditor")
    token = await pool.fetchrow("SELECT id, name FROM api_tokens WHERE kind = 'auditor'")
    before = await pool.fetchval("SELECT clock_timestamp()")  # the log's times are the database's
    await client.get("/events", params={"type": "commitment.made", "limit": 5}, headers=auditor)
    await client.get(f"/streams/{story.c.id}/events", headers=auditor)
    await client.get(f"/commitments/{story.c.id}/history", headers=auditor)
    unknown = uuid.uuid4()
    await client.get(f"/commitments/{unknown}/history", headers=auditor)  # a 404 too
    await client.get("/events", params={"cursor": "bad"}, headers=auditor)  # and a 422
    for kind, who in (("leader", "amina"), ("admin", None), ("integration", None)):
        await client.get(
            f"/commitments/{story.c.id}/history", headers=await story.headers(kind, who)
        )
    await client.get("/events")  # no token: nobody to log

    rows = [dict(r) for r in await pool.fetch(ACCESS_LOG)]
    assert [(r["method"], r["path"], r["query"]) for r in rows] == [
        ("GET", "/events", "type=commitment.made&limit=5"),
        ("GET", f"/streams/{story.c.id}/events", ""),
        ("GET", f"/commitments/{story.c.id}/history", ""),
        ("GET", f"/commitments/{unknown}/history", ""),
        ("GET", "/events", "cursor=bad"),
    ]
    assert {(r["token_id"], r["token_name"], r["kind"]) for r in rows} == {
        (token["id"], token["name"], "auditor")
    }
    after = await pool.fetchval("SELECT clock_timestamp()")
    assert all(before <= r["at"] <= after for r in rows)


async def test_the_access_log_is_append_only(
    client: Client, story: Story, pool: asyncpg.Pool
) -> None:
    await client.get("/events", headers=await story.headers("auditor"))
    for statement in ("UPDATE access_log SET path = '/elsewhere'", "DELETE FROM access_log"):
        with pytest.raises(asyncpg.PostgresError, match="append-only") as refused:
            await pool.execute(statement)
        assert refused.value.sqlstate == "TR001"
    assert await pool.fetchval("SELECT count(*) FROM access_log") == 1


async def test_the_controllers_document_themselves(
    pool: asyncpg.Pool, repository: Repository
) -> None:
    app = history_app(pool, repository, Clock())
    document = app.openapi_schema
    finish(document, set())
    paths = document.to_schema()["paths"]
    operations: Sequence[tuple[str, str]] = [
        ("/events", "listEvents"),
        ("/streams/{stream_id}/events", "listStreamEvents"),
        ("/commitments/{commitment_id}/history", "getCommitmentHistory"),
    ]
    for path, operation_id in operations:
        op = paths[path]["get"]
        assert op["operationId"] == operation_id
        assert {"401", "403", "404", "422"} <= set(op["responses"]), path
        assert op["summary"]


@pytest.mark.parametrize("chunk", [1000, 2, 3])
async def test_history_pages_tell_the_same_entries_as_one_page(
    client: Client,
    story: Story,
    repository: Repository,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
) -> None:
    """Pages start from the state their first entry changed, however the stream is read."""
    monkeypatch.setattr(history_text, "CHUNK", chunk)
    c = await repository.get(Commitment, story.c.id)
    for percent in range(41, 48):
        c.report_progress(c.owner_id, percent)
    await repository.save(c, context=SEEDER)
    path, auditor = f"/commitments/{c.id}/history", await story.headers("auditor")
    whole = (await client.get(path, params={"limit": 1000}, headers=auditor)).json()
    assert len(whole["entries"]) == 11 and whole["next_after_version"] is None
    paged, after = [], 0
    while after is not None:
        page = (
            await client.get(path, params={"limit": 3, "after_version": after}, headers=auditor)
        ).json()
        assert page["version"] == 11 and len(page["entries"]) <= 3
        paged += page["entries"]
        after = page["next_after_version"]
    assert paged == whole["entries"]
    default = (await client.get(path, headers=auditor)).json()
    assert default["entries"] == whole["entries"]  # within the default page of 100
    for params in ({"limit": 0}, {"limit": 1001}, {"after_version": -1}):
        bad = await client.get(path, params=params, headers=auditor)
        assert bad.status_code == 400 or bad.status_code == 422, params
        assert bad.json()["errors"][0]["field"] in params
