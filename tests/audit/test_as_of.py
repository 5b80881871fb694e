"""Time travel: as_of answers equal the live answers captured at that moment, for views (read
from the projections' history) and for single resources (their streams replayed)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Response, get
from litestar.params import FromPath

from projections.queries.agreements_register import agreements_register, forum_known
from projections.queries.commitment_list import Filters, Scope, list_commitments
from projections.queries.leader_view import LeaderCommitments, Options, leader_view
from projections.queries.meeting_view import meeting_view
from projections.queries.purpose_view import purpose_view
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, seed_world
from tests.audit.test_history import history_app, settled
from tests.clock import Clock
from tests.decisions import RULED
from tests.projections.history import History
from tracker.api.dependencies import RepositoryDep
from tracker.api.resources.commitments import CommitmentState
from tracker.api.resources.common import state
from tracker.api.resources.forums import ForumState
from tracker.api.time_travel import AsOfQuery, ViewsDep
from tracker.application.ports import NotFound
from tracker.audit.as_of import AsOf, get_as_of, parse_as_of, version_at
from tracker.audit.past_views import NotReached, views_as_of
from tracker.domain import Agreement, Commitment, Forum, InvalidValue, Meeting
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository

NOW = "SELECT clock_timestamp()"
RECORDED_AT = "SELECT recorded_at FROM events WHERE position = $1"
CUT = "SELECT current_setting('tracker.cut_tx', true)"


async def caught_up(store: EventStore, database_url: str) -> None:
    """Every projection applied up to the end of the log, its history with it."""
    await settled(store.pool)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    await runner.run_until_caught_up()


# Parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", AsOf(position=42)),
        (" 7 ", AsOf(position=7)),
        ("2026-11-26T10:00:00Z", AsOf(moment=datetime(2026, 11, 26, 10, tzinfo=UTC))),
        ("2026-11-26T10:00:00+00:00", AsOf(moment=datetime(2026, 11, 26, 10, tzinfo=UTC))),
    ],
)
def test_as_of_is_a_position_or_a_timestamp(text: str, expected: AsOf) -> None:
    assert parse_as_of(text) == expected


@pytest.mark.parametrize(
    "text", ["0", "-3", "soon", "2026-11-26T10:00:00", "2026-11-26", "", "²", "1" * 30]
)
def test_anything_else_is_an_invalid_as_of(text: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_as_of(text)
    assert refused.value.field == "as_of"


# Positions follow the global (transaction_id, position) order


async def test_positions_compare_in_global_order_not_by_number(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    """A transaction that took its id first but wrote last comes first in the log."""
    first, second = Forum.convene(uuid.uuid4(), "First", uuid.uuid4()), None
    async with pool.acquire() as early:
        transaction = early.transaction()
        await transaction.start()
        await early.execute("SELECT pg_current_xact_id()")  # its transaction id comes first
        second = Forum.convene(uuid.uuid4(), "Second", uuid.uuid4())
        written = await store.append(*repository.mapper.pending(second), context=SEEDER)
        b = written.events[0]
        await store.append(*repository.mapper.pending(first), context=SEEDER, connection=early)
        await transaction.commit()
    a = (await pool.fetchrow("SELECT position FROM events WHERE stream_id = $1", first.id))[0]
    assert a > b.position  # later by number, yet earlier in the log
    await caught_up(store, database_url)

    assert await version_at(pool, first.id, b.position) == 1
    assert await version_at(pool, second.id, a) is None
    assert await version_at(pool, second.id, b.position) == 1
    with pytest.raises(NotFound):
        await get_as_of(repository, Forum, second.id, str(a))

    async def forums(as_of: int) -> set[str]:
        async with views_as_of(pool, as_of) as views:
            return {r[0] for r in await views.pool.fetch("SELECT name FROM forums")}

    assert await forums(a) == {"First"}
    assert await forums(b.position) == {"First", "Second"}


async def test_an_unknown_position_is_an_invalid_as_of(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    world = await seed_world(repository)
    assert world.forum is not None
    with pytest.raises(InvalidValue, match="no event at global position"):
        await version_at(pool, world.forum.id, 10**12)
    with pytest.raises(InvalidValue, match="no event at global position"):
        async with views_as_of(pool, 10**12):
            pass


# The as_of answer equals the live answer captured at that moment


class Capture(msgspec.Struct):
    """What the live views and resources answered at one moment."""

    as_of: str
    moment: datetime
    views: dict[str, Any]
    resources: dict[UUID, Any]
    known: set[UUID]
    missing: list[UUID] = []


async def view_answers(
    db: asyncpg.Pool, history: History, leaders: list[UUID], moment: datetime
) -> dict[str, Any]:
    """Every view query the history exercises, as of `moment` on `db`."""
    answers: dict[str, Any] = {}
    for leader in leaders:
        answers[f"leader {leader}"] = await leader_view(db, leader, moment, Options(), Scope())
    answers["commitments table"] = [
        dict(r) for r in await db.fetch("SELECT * FROM commitments ORDER BY commitment_id")
    ]
    answers["list"] = await list_commitments(db, Filters(), Scope(), moment, None, 1000)
    for _, purpose in history.purposes:
        view = await purpose_view(db, purpose.id, lambda: moment, limit=1000)
        answers[f"purpose {purpose.id}"] = None if view is None else view.body
    return answers


# Over 10,000 events and fifteen cuts: close to the default limit on a busy machine.
@pytest.mark.timeout(240)
async def test_as_of_equals_the_live_answer_at_random_moments(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    rng = random.Random(2611)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    history = History(seed=2611, leaders=16, forums=3)
    leaders = [leader.id for leader in rng.sample(history.leaders, 5)]
    captures: list[Capture] = []
    for _ in range(15):
        for _ in range(rng.randint(700, 3300)):
            history.step()
        last = await history.flush(repository)
        await settled(pool)
        await runner.run_until_caught_up()
        if rng.random() < 0.5:
            moment = await pool.fetchval(NOW)
            as_of = moment.isoformat()
        else:
            moment, as_of = await pool.fetchval(RECORDED_AT, last), str(last)
        known = [c.id for c in history.commitments]
        sample = rng.sample(known, min(6, len(known)))
        resources: dict[UUID, Any] = {
            c: CommitmentState.of(await repository.get(Commitment, c)) for c in sample
        }
        for forum, _ in history.forums:
            resources[forum.id] = ForumState.of(await repository.get(Forum, forum.id))
        captures.append(
            Capture(
                as_of,
                moment,
                await view_answers(pool, history, leaders, moment),
                resources,
                set(known),
            )
        )
    # More history after every captured moment, some of it new commitments.
    for _ in range(400):
        history.step()
    await history.flush(repository)
    await settled(pool)
    for capture in captures:
        capture.missing = [c.id for c in history.commitments if c.id not in capture.known]

    assert await pool.fetchval("SELECT count(*) FROM events") > 10_000
    assert any(c.missing for c in captures), "some commitments must postdate a capture"
    assert {c.as_of.isdigit() for c in captures} == {True, False}, "positions and timestamps"
    for capture in captures:
        async with views_as_of(pool, capture.as_of) as views:
            assert views.now() == capture.moment
            past = await view_answers(views.pool, history, leaders, capture.moment)
        assert past == capture.views, capture.as_of
        for stream_id, then in capture.resources.items():
            cls = Commitment if isinstance(then, CommitmentState) else Forum
            aggregate: Any = await get_as_of(repository, cls, stream_id, capture.as_of)
            now_then = type(then).of(aggregate)  # type: ignore[attr-defined]
            assert now_then == then
        for stream_id in capture.missing:
            with pytest.raises(NotFound):
                await get_as_of(repository, Commitment, stream_id, capture.as_of)

    # As of the newest event, every table of the views equals the live one, row for row.
    await runner.run_until_caught_up()
    newest = await pool.fetchval("SELECT max(position) FROM events")
    async with views_as_of(pool, newest) as views:
        assert await view_answers(views.pool, history, leaders, moment) == await view_answers(
            pool, history, leaders, moment
        )
        for projection in all_projections():
            if not projection.history:
                continue
            for table in projection.tables:
                sql = f"SELECT t::text FROM {table} t ORDER BY 1"
                past_rows = [r[0] for r in await views.pool.fetch(sql)]
                assert past_rows == [r[0] for r in await pool.fetch(sql)], table


# Overdue is judged at the as_of moment; governance views too


@pytest.fixture
async def partnership(repository: Repository, pool: asyncpg.Pool) -> dict[str, Any]:
    """A forum with a meeting, a commitment made there due in five days, and an agreement.

    Its dates count from the database's clock: as_of moments cut the log by recorded_at.
    """
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    amina = world.id("amina")
    today = (await pool.fetchval(NOW)).astimezone(UTC).date()
    met = datetime.combine(today - timedelta(days=6), time(18), UTC)
    meeting = Meeting.schedule(uuid.uuid4(), world.forum.id, "November", met)
    commitment = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=amina,
        by=amina,
        description="Open the library on weekday evenings",
        purpose_ids=[world.purpose.id],
        made_on=met.date(),
        due_on=today + timedelta(days=5),
        meeting_id=meeting.id,
    )
    agreement = Agreement.propose(
        uuid.uuid4(), "forum", world.forum.id, "expectation", "Rotas", "Share rotas", amina
    )
    saved = await repository.save(meeting, commitment, agreement, context=SEEDER)
    return {
        "world": world,
        "amina": amina,
        "meeting": meeting,
        "commitment": commitment,
        "agreement": agreement,
        "proposed_at": max(e.position for e in saved.events),
    }


async def test_overdue_is_judged_at_the_as_of_moment(
    store: EventStore, pool: asyncpg.Pool, partnership: dict[str, Any], database_url: str
) -> None:
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    await settled(pool)
    await runner.run_until_caught_up()
    amina, meeting = partnership["amina"], partnership["meeting"]
    due: date = partnership["commitment"].due_on
    eve, later = due - timedelta(days=1), due + timedelta(days=4)
    for as_of, overdue in ((f"{eve}T23:00:00Z", False), (f"{later}T12:00:00+01:00", True)):
        moment = parse_as_of(as_of).moment
        assert moment is not None
        live = await leader_view(pool, amina, moment, Options(), Scope())
        assert live is not None
        live_meeting = await meeting_view(pool, meeting.id, lambda: moment)  # noqa: B023
        async with views_as_of(pool, as_of) as views:
            body = await leader_view(views.pool, amina, views.now(), Options(), Scope())
            assert body is not None
            past_meeting = await meeting_view(views.pool, meeting.id, views.now)
        assert body == live
        past = msgspec.json.decode(body, type=LeaderCommitments)
        assert (past.counts.overdue == 1) is overdue
        assert past_meeting == live_meeting
        assert past_meeting is not None
        assert [c.overdue for c in past_meeting.commitments_made] == [overdue]


async def test_the_register_as_of_shows_what_was_in_force_then(
    store: EventStore,
    repository: Repository,
    pool: asyncpg.Pool,
    partnership: dict[str, Any],
    database_url: str,
) -> None:
    forum = partnership["world"].forum
    agreement: Agreement = partnership["agreement"]
    agreement.adopt(RULED)
    await repository.save(agreement, context=SEEDER)
    await caught_up(store, database_url)
    before, after = partnership["proposed_at"], await pool.fetchval(NOW)
    async with views_as_of(pool, before) as views:
        assert await forum_known(views.pool, forum.id)
        proposed = await agreements_register(views.pool, forum.id, "all")
        in_force_then = await agreements_register(views.pool, forum.id)
    async with views_as_of(pool, after.isoformat()) as views:
        in_force_now = await agreements_register(views.pool, forum.id)
    assert [a.status for a in proposed.agreements] == ["proposed"]
    assert in_force_then.agreements == []
    assert [a.status for a in in_force_now.agreements] == ["adopted"]
    async with views_as_of(pool, "2000-01-01T00:00:00Z") as views:
        assert not await forum_known(views.pool, forum.id)


async def test_a_past_read_leaves_its_connection_as_it_was(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    world = await seed_world(repository)
    assert world.forum is not None
    await caught_up(store, database_url)
    with pytest.raises(RuntimeError, match="boom"):
        async with views_as_of(pool, "2100-01-01T00:00:00Z") as views:
            assert await views.pool.fetchval("SELECT count(*) FROM forums") == 1
            assert await views.pool.fetchval("SHOW search_path") == "past, public"
            raise RuntimeError("boom")
    # Every pooled connection is back on the public schema with no cut set.
    for _ in range(pool.get_max_size() + 1):
        async with views_as_of(pool, "2100-01-01T00:00:00Z"):
            pass
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW search_path") == '"$user", public'
        assert await conn.fetchval(CUT) in (None, "")


async def test_a_cut_the_views_have_not_reached_waits_for_them_then_is_refused(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    await seed_world(repository)
    await settled(pool)
    newest = await pool.fetchval("SELECT max(position) FROM events")
    with pytest.raises(NotReached):
        async with views_as_of(pool, newest, wait=0.05):
            pass
    await caught_up(store, database_url)
    async with views_as_of(pool, newest, wait=0.05) as views:
        assert await views.pool.fetchval("SELECT count(*) FROM forums") == 1


async def test_a_past_view_is_an_indexed_read_of_the_history(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    """The plan of a past leader view reads the history by the owner's index, as live does."""
    world = await seed_world(repository)
    await caught_up(store, database_url)
    amina = world.id("amina")
    async with views_as_of(pool, "2100-01-01T00:00:00Z") as views:
        await views.pool.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await views.pool.fetch(
                "EXPLAIN SELECT item FROM commitments WHERE owner_id = $1", amina
            )
        )
    assert "commitments_owner_h" in plan, plan


# The endpoint wiring offered for app.py and the resources, on a throwaway app


@get(
    "/probe/commitments/{commitment_id:uuid}",
    operation_id="probeCommitment",
    summary="A copy of getCommitment with the as_of change",
)
async def probe_commitment(
    commitment_id: FromPath[UUID], repository: RepositoryDep, as_of: AsOfQuery = None
) -> Response[CommitmentState]:
    """As the single-resource GETs will be, with as_of."""
    commitment = await get_as_of(repository, Commitment, commitment_id, as_of)
    return state(CommitmentState.of(commitment), commitment.version)  # type: ignore[return-value]


@get(
    "/probe/leaders/{leader_id:uuid}/commitments",
    operation_id="probeLeaderView",
    summary="A cut-down leader view with the views dependency",
)
async def probe_leader_view(leader_id: FromPath[UUID], views: ViewsDep) -> LeaderCommitments:
    """As the view endpoints will be: views.pool and views.now instead of state's."""
    async with views.read() as read:
        body = await leader_view(read.pool, leader_id, read.now(), Options(), Scope())
    if body is None:
        raise NotFound("leader", leader_id)
    return msgspec.json.decode(body, type=LeaderCommitments)


@pytest.fixture
async def client(pool: asyncpg.Pool, repository: Repository) -> AsyncIterator[httpx.AsyncClient]:
    app = history_app(pool, repository, Clock(), probe_commitment, probe_leader_view)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_endpoints_answer_as_of_through_the_offered_wiring(
    client: httpx.AsyncClient,
    store: EventStore,
    repository: Repository,
    pool: asyncpg.Pool,
    partnership: dict[str, Any],
    database_url: str,
) -> None:
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    commitment: Commitment = partnership["commitment"]
    amina = partnership["amina"]
    made = partnership["proposed_at"]
    commitment.report_progress(amina, 50)
    await repository.save(commitment, context=SEEDER)
    await settled(pool)
    await runner.run_until_caught_up()
    headers = await Tokens(pool).headers("auditor")

    path = f"/probe/commitments/{commitment.id}"
    now = await client.get(path, headers=headers)
    then = await client.get(path, params={"as_of": str(made)}, headers=headers)
    assert now.json()["progress"] == 50 and now.headers["etag"] == '"2"'
    assert then.json()["progress"] is None and then.headers["etag"] == '"1"'
    before = await client.get(path, params={"as_of": "2000-01-01T00:00:00Z"}, headers=headers)
    assert before.status_code == 404
    for bad in ("soon", "0", "2026-11-26T10:00:00", str(10**12)):
        refused = await client.get(path, params={"as_of": bad}, headers=headers)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == "as_of"

    view = f"/probe/leaders/{amina}/commitments"
    live = (await client.get(view, headers=headers)).json()
    far = "2100-01-01T00:00:00Z"
    past = (await client.get(view, params={"as_of": far}, headers=headers)).json()
    assert past["evaluated_at"] == "2100-01-01T00:00:00Z"
    open_now = [i["commitment_id"] for g in ("due_soon", "active") for i in live["groups"][g]]
    assert [i["commitment_id"] for i in past["groups"]["overdue"]] == open_now
    assert [(i["overdue"], i["progress"]) for i in past["groups"]["overdue"]] == [(True, 50)]
    then_view = (await client.get(view, params={"as_of": str(made)}, headers=headers)).json()
    assert [i["progress"] for g in then_view["groups"].values() for i in g] == [None]

    # A 404 inside the replay still rolls it back and hands its connection back, every time.
    unknown = f"/probe/leaders/{uuid.uuid4()}/commitments"
    for _ in range(pool.get_max_size() + 2):
        response = await asyncio.wait_for(
            client.get(unknown, params={"as_of": far}, headers=headers), timeout=10
        )
        assert response.status_code == 404
    logged = await pool.fetch("SELECT query FROM access_log WHERE path = $1", view)
    assert {r["query"] for r in logged} == {"", f"as_of={far.replace(':', '%3A')}", f"as_of={made}"}


async def test_the_views_dependency_documents_as_of(
    pool: asyncpg.Pool, repository: Repository
) -> None:
    app = history_app(pool, repository, Clock(), probe_commitment, probe_leader_view)
    paths = app.openapi_schema.to_schema()["paths"]
    for path in ("/probe/commitments/{commitment_id}", "/probe/leaders/{leader_id}/commitments"):
        params = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert params["as_of"]["in"] == "query"
        assert not params["as_of"].get("required", False)
        assert "global position" in params["as_of"]["description"]


async def test_concurrent_past_reads_leave_connections_for_everything_else(
    store: EventStore, repository: Repository, pool: asyncpg.Pool, database_url: str
) -> None:
    """A request reading past views may need a second connection (an access check): it gets one."""
    await seed_world(repository)
    await caught_up(store, database_url)

    async def replay_then_check() -> int:
        async with views_as_of(pool, "2100-01-01T00:00:00Z") as views:
            await asyncio.sleep(0.05)
            return int(await pool.fetchval("SELECT 1")) + await views.pool.fetchval(
                "SELECT count(*) FROM forums"
            )

    tasks = [replay_then_check() for _ in range(pool.get_max_size() * 2)]
    assert await asyncio.wait_for(asyncio.gather(*tasks), timeout=30) == [2] * len(tasks)
