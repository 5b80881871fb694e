"""The expensive reads are bounded: access before any replay, time limits, a token's share."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from projections.queries.cache import ViewCache
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.audit.test_history import settled
from tests.clock import Clock
from tracker.api import problems
from tracker.api.dependencies import (
    authenticate,
    provide_call,
    provide_commands,
    provide_principal,
    provide_repository,
)
from tracker.api.resources.agreement_register import AgreementRegisterController
from tracker.api.resources.commitment_list import CommitmentListController
from tracker.api.resources.leader_views import LeaderViewController
from tracker.api.resources.meeting_views import MeetingViewController
from tracker.api.resources.purpose_views import PurposeViewController
from tracker.api.time_travel import provide_views
from tracker.api.view_limits import Admissions, ViewLimits
from tracker.domain import Commitment, Leader, Meeting
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository
from tracker.tokens import Authenticator

LATER = "2100-01-01T00:00:00Z"
LEFTOVERS = "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'as\\_of\\_%'"
# Whether a query containing $2 waits for a lock held by backend $1 (other processes sharing
# the test database, such as a projection runner, may wait on the same lock).
WAITING = """
SELECT EXISTS (SELECT FROM pg_stat_activity
               WHERE $1 = ANY(pg_blocking_pids(pid)) AND strpos(query, $2) > 0)
"""
# What the view queries say, and nothing else does.
LEADER_VIEW_QUERY = "FROM commitments c"
Opened = Callable[[ViewLimits], Any]


def views_app(pool: asyncpg.Pool, repository: Repository, limits: ViewLimits) -> Litestar:
    """The view controllers with create_app's wiring and the given limits."""
    state = State(
        {
            "pool": pool,
            "store": repository.store,
            "repository": repository,
            "authenticator": Authenticator(pool),
            "view_cache": ViewCache(pool),
            "now": Clock(),
            "admissions": Admissions(limits),
        }
    )
    return Litestar(
        route_handlers=[
            LeaderViewController,
            CommitmentListController,
            PurposeViewController,
            MeetingViewController,
            AgreementRegisterController,
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


class Partnership:
    """A forum of three with a meeting and a commitment, an outsider, and clients to read it."""

    def __init__(self, pool: asyncpg.Pool, repository: Repository, world: World, url: str) -> None:
        self.pool, self.repository, self.world, self.url = pool, repository, world, url
        self.tokens = Tokens(pool)
        self.meeting: Meeting | None = None
        self.admissions = Admissions(ViewLimits())
        self.outsider = Leader.register(uuid.uuid4(), "Dev", "dev@example.org")

    @property
    def paths(self) -> dict[str, str]:
        """Every view that takes as_of and refuses a caller outside its forum."""
        assert self.world.forum and self.world.purpose and self.meeting
        return {
            "purpose": f"/purposes/{self.world.purpose.id}/view",
            "meeting": f"/meetings/{self.meeting.id}/view",
            "register": f"/forums/{self.world.forum.id}/agreements",
        }

    def leader_view(self, name: str = "amina") -> str:
        return f"/leaders/{self.world.id(name)}/commitments"

    @asynccontextmanager
    async def client(self, limits: ViewLimits) -> AsyncIterator[httpx.AsyncClient]:
        """A client of the views on this test's event loop, so the test can hold what they
        wait for (a lock) and see how they wait."""
        app = views_app(self.pool, self.repository, limits)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            self.admissions = app.state.admissions
            yield c


@pytest.fixture
async def partnership(
    pool: asyncpg.Pool, repository: Repository, store: EventStore, database_url: str
) -> Partnership:
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    amina = world.id("amina")
    p = Partnership(pool, repository, world, database_url)
    p.meeting = Meeting.schedule(
        uuid.uuid4(), world.forum.id, "December", datetime(2026, 12, 1, 18, tzinfo=UTC)
    )
    commitment = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=amina,
        by=amina,
        description="Open the library on weekday evenings",
        purpose_ids=[world.purpose.id],
        made_on=date(2026, 11, 1),
        meeting_id=p.meeting.id,
    )
    await repository.save(p.meeting, commitment, p.outsider, context=SEEDER)
    await settled(pool)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    await runner.run_until_caught_up()
    return p


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Return once condition holds; fail if it does not within seconds."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.001)


async def until_waiting(pool: asyncpg.Pool, holder: int, query: str) -> None:
    """Return once a query containing `query` waits on a lock of backend holder."""
    deadline = asyncio.get_running_loop().time() + 10
    while not await pool.fetchval(WAITING, holder, query):
        assert asyncio.get_running_loop().time() < deadline, f"no {query!r} waited on a lock"
        await asyncio.sleep(0.005)


@asynccontextmanager
async def locked(pool: asyncpg.Pool, table: str) -> AsyncIterator[asyncpg.Connection]:
    """Hold an exclusive lock on a table (or a view's tables) until the block ends."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield conn


async def in_background(request: Awaitable[httpx.Response]) -> asyncio.Task[httpx.Response]:
    """A request left running while the test goes on."""
    return asyncio.ensure_future(request)


# Access is decided before the past is read


@pytest.mark.parametrize("view", ["purpose", "meeting", "register"])
async def test_an_outsider_is_refused_a_past_view_before_it_is_read(
    partnership: Partnership, view: str
) -> None:
    path = partnership.paths[view]
    outsider = await partnership.tokens.headers("leader", partnership.outsider.id)
    member = await partnership.tokens.headers("leader", partnership.world.id("ben"))
    async with partnership.client(ViewLimits(as_of_wait=0.05)) as client:
        refused = await client.get(path, params={"as_of": LATER}, headers=outsider)
        malformed = await client.get(path, params={"as_of": "soon"}, headers=outsider)
        # An outsider is told what an unknown id is told, and nothing about as_of.
        assert refused.status_code == 404, refused.text
        assert refused.json()["type"].endswith("/not-found")
        assert malformed.status_code == 404
        answered = await client.get(path, params={"as_of": LATER}, headers=member)
        assert answered.status_code == 200, answered.text


async def test_an_unknown_resource_is_not_found_before_its_past_is_read(
    partnership: Partnership,
) -> None:
    member = await partnership.tokens.headers("leader", partnership.world.id("ben"))
    async with partnership.client(ViewLimits(as_of_wait=0.05)) as client:
        for kind in ("purposes", "meetings"):
            path = f"/{kind}/{uuid.uuid4()}/view"
            missing = await client.get(path, params={"as_of": LATER}, headers=member)
            assert missing.status_code == 404, missing.text
        path = f"/forums/{uuid.uuid4()}/agreements"
        missing = await client.get(path, params={"as_of": LATER}, headers=member)
        assert missing.status_code == 404, missing.text


async def test_a_past_leader_view_shows_only_the_forums_the_caller_belongs_to_now(
    partnership: Partnership, store: EventStore, database_url: str
) -> None:
    world = partnership.world
    assert world.forum is not None
    ben = await partnership.tokens.headers("leader", world.id("ben"))
    path = partnership.leader_view()
    async with partnership.client(ViewLimits()) as client:
        member_then = await client.get(path, params={"as_of": LATER}, headers=ben)
        assert len(member_then.json()["groups"]["no_due_date"]) == 1
        then = str(await partnership.pool.fetchval("SELECT max(position) FROM events"))
        forum = await partnership.repository.get(type(world.forum), world.forum.id)
        forum.leave(world.id("ben"))
        await partnership.repository.save(forum, context=SEEDER)
        await settled(partnership.pool)
        runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
        await runner.run_until_caught_up()
        left = await client.get(path, params={"as_of": then}, headers=ben)
        listed = await client.get("/commitments", params={"as_of": then}, headers=ben)
    assert left.status_code == 200 and left.json()["groups"]["no_due_date"] == []
    assert listed.status_code == 200 and listed.json()["items"] == []


# Time limits


async def test_a_view_query_over_its_time_limit_is_cancelled_and_answered_503(
    partnership: Partnership,
) -> None:
    amina = await partnership.tokens.headers("leader", partnership.world.id("amina"))
    path = partnership.leader_view()
    pool = partnership.pool
    async with partnership.client(ViewLimits(view_timeout=0.2)) as client:
        async with locked(pool, "commitments") as holder:
            pid = holder.get_server_pid()
            slow = await in_background(client.get(path, headers=amina))
            await until_waiting(pool, pid, LEADER_VIEW_QUERY)
            answer = await slow
            # The query was cancelled on the server, not left waiting for the lock.
            assert not await pool.fetchval(WAITING, pid, LEADER_VIEW_QUERY)
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"].endswith("/view-timeout")
        assert int(answer.headers["retry-after"]) > 0
        after = await client.get(path, headers=amina)
        assert after.status_code == 200, after.text
        assert len(after.json()["groups"]["no_due_date"]) == 1


# A token's share


async def test_a_token_over_its_share_of_live_reads_is_answered_429(
    partnership: Partnership,
) -> None:
    amina = await partnership.tokens.headers("leader", partnership.world.id("amina"))
    path = partnership.leader_view()
    pool = partnership.pool
    async with partnership.client(ViewLimits(reads_per_token=1)) as client:
        async with locked(pool, "commitments") as holder:
            first = await in_background(client.get(path, headers=amina))
            await until_waiting(pool, holder.get_server_pid(), LEADER_VIEW_QUERY)
            second = await client.get("/commitments", headers=amina)
        assert second.status_code == 429, second.text
        assert (await first).status_code == 200
        assert (await client.get("/commitments", headers=amina)).status_code == 200


async def _every_connection_reads_times_as_datetimes(pool: asyncpg.Pool) -> None:
    """No connection went back to the pool with the replay's COPY codecs still on it."""
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(pool.get_max_size()):
            conn = await stack.enter_async_context(pool.acquire())
            assert isinstance(await conn.fetchval("SELECT now()"), datetime)


async def _token_id(pool: asyncpg.Pool) -> uuid.UUID:
    """The one token issued so far."""
    token_id: uuid.UUID = await pool.fetchval("SELECT id FROM api_tokens")
    return token_id
