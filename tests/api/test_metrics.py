"""GET /metrics: each family is exposed, and moves when the service does something."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from projections.registry import all_projections, projection_names
from projections.runner import ProjectionRunner
from tests.api.conftest import Tokens
from tests.clock import Clock
from tests.conftest import empty_tables, migrated
from tracker.api.app import create_app
from tracker.audit import seals
from tracker.audit.keys import SigningKey
from tracker.database import create_pool
from tracker.eventstore import EventStore
from tracker.settings import Settings

Client = AsyncTestClient[Litestar]
PROJECTIONS = sorted(projection_names())


@pytest.fixture(scope="module")
async def own_url(new_database: Callable[[], Awaitable[str]]) -> str:
    """A database of this module's own: no other app's projection runner moves its views."""
    return await migrated(new_database)


@pytest.fixture(scope="module")
async def own_pool(own_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(own_url, size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def db(own_pool: asyncpg.Pool) -> asyncpg.Pool:
    """This module's database, emptied."""
    await empty_tables(own_pool)
    return own_pool


@pytest.fixture
def tokens(db: asyncpg.Pool) -> Tokens:
    return Tokens(db)


@pytest.fixture(scope="module")
async def scraped(
    own_url: str, clock: Clock, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Client]:
    """An app whose /metrics is public and whose projections run only when a test says so."""
    settings = Settings(
        database_url=own_url,
        pool_size=3,
        data_dir=tmp_path_factory.mktemp("metrics"),
        seal_seconds=0,
        run_projections=False,
        metrics_public=True,
    )
    async with AsyncTestClient(create_app(settings, now=clock)) as client:
        yield client


async def metrics(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """One sample's value; 0 for a series not (yet) exposed."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def register(client: Client, issue: Tokens) -> str:
    """Register an organisation through the API: one append of one event."""
    admin = await issue.headers("admin")
    r = await client.post(
        "/organisations", json={"name": "Northshire", "kind": "nhs"}, headers=admin
    )
    assert r.status_code == 201, r.text
    oid: str = r.json()["stream_id"]
    return oid


async def test_metrics_need_an_auditor_or_admin_token_unless_made_public(
    client: Client, scraped: Client, issue: Tokens
) -> None:
    assert (await client.get("/metrics")).status_code == 401
    assert (
        await client.get("/metrics", headers=await issue.headers("integration"))
    ).status_code == 403
    assert (await client.get("/metrics", headers=await issue.headers("auditor"))).status_code == 200
    assert (await scraped.get("/metrics")).status_code == 200


async def test_an_append_raises_the_append_and_event_counters_and_the_batch_histogram(
    scraped: Client, tokens: Tokens, db: asyncpg.Pool
) -> None:
    before = await metrics(scraped)
    await register(scraped, tokens)
    after = await metrics(scraped)

    assert value(after, "tracker_appends_total") == value(before, "tracker_appends_total") + 1
    assert value(after, "tracker_events_appended_total") == (
        value(before, "tracker_events_appended_total") + 1
    )
    # A lone single-event append is written by the group commit, as a batch of one.
    batches = "tracker_group_commit_batch_size_count"
    assert value(after, batches) == value(before, batches) + 1
    ones = "tracker_group_commit_batch_size_bucket"
    assert value(after, ones, le="1.0") == value(before, ones, le="1.0") + 1


async def test_requests_are_counted_by_route_template_and_status_never_by_raw_path(
    scraped: Client, db: asyncpg.Pool
) -> None:
    missing = uuid.uuid4()
    route = {
        "method": "GET",
        "path": "/organisations/{organisation_id}",
        "app_name": "tracker",
    }
    before = await metrics(scraped)
    for _ in range(2):
        assert (await scraped.get(f"/organisations/{missing}")).status_code == 401
    after = await metrics(scraped)

    requests = "tracker_http_requests_total"
    assert value(after, requests, **route, status_code="401") == (
        value(before, requests, **route, status_code="401") + 2
    )
    latency = "tracker_http_request_duration_seconds_count"
    assert value(after, latency, **route, status_code="401") == (
        value(before, latency, **route, status_code="401") + 2
    )
    assert not any(str(missing) in v for _, labels in after for _, v in labels)


async def test_projection_lag_grows_with_appends_and_falls_to_zero_once_applied(
    scraped: Client, tokens: Tokens, db: asyncpg.Pool, own_url: str, clock: Clock
) -> None:
    await register(scraped, tokens)
    await register(scraped, tokens)
    behind = await metrics(scraped)
    for name in PROJECTIONS:
        labels = {"projection": name, "generation": "1"}
        assert value(behind, "tracker_projection_lag_events", **labels) == 2
        assert value(behind, "tracker_projection_lag_seconds", **labels) >= 0

    store = EventStore(db, now=clock)
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(own_url))
    await runner.run_until_caught_up()
    caught_up = await metrics(scraped)
    head = await db.fetchval("SELECT max(position) FROM events")
    for name in PROJECTIONS:
        labels = {"projection": name, "generation": "1"}
        assert value(caught_up, "tracker_projection_lag_events", **labels) == 0
        assert value(caught_up, "tracker_projection_checkpoint_position", **labels) == head
        assert value(caught_up, "tracker_projection_events_applied_total", **labels) == 2


async def test_a_failed_projection_shows_in_its_state(scraped: Client, db: asyncpg.Pool) -> None:
    name = PROJECTIONS[0]
    await db.execute(
        "UPDATE projection_generations SET state = 'failed', error = 'boom' WHERE name = $1", name
    )
    samples = await metrics(scraped)
    labels = {"projection": name, "generation": "1"}
    assert value(samples, "tracker_projection_state", **labels, state="failed") == 1
    assert value(samples, "tracker_projection_state", **labels, state="stopped") == 0


async def test_the_horizon_names_the_open_transaction_that_holds_events_back(
    scraped: Client, tokens: Tokens, own_url: str, db: asyncpg.Pool
) -> None:
    blocker = await asyncpg.connect(own_url, server_settings={"application_name": "stuck"})
    try:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("SELECT pg_current_xact_id()")  # it now has an id: it holds xmin
        await register(scraped, tokens)
        held = await metrics(scraped)
        await tx.rollback()
        pid = str(blocker.get_server_pid())
        name = await blocker.fetchval("SELECT current_database()")
    finally:
        await blocker.close()
    released = await metrics(scraped)

    assert value(held, "tracker_horizon_held_back_events") == 1
    assert value(held, "tracker_horizon_age_seconds") > 0
    info = {"pid": pid, "application": "stuck", "state": "idle in transaction"}
    assert (
        value(
            held,
            "tracker_horizon_blocker_info",
            **info,
            database=name,
        )
        == 1
    )
    assert value(released, "tracker_horizon_held_back_events") == 0
    # Another session may hold an id for a millisecond as the scrape runs; the stuck one is gone.
    assert value(released, "tracker_horizon_blocker_info", **info, database=name) == 0


async def test_the_sealer_lag_counts_events_no_seal_covers(
    scraped: Client, tokens: Tokens, db: asyncpg.Pool, clock: Clock
) -> None:
    await register(scraped, tokens)
    await register(scraped, tokens)
    unsealed = await metrics(scraped)
    await seals.seal(db, SigningKey.generate(), now=clock)
    sealed = await metrics(scraped)

    assert value(unsealed, "tracker_sealer_unsealed_events") == 2
    assert value(unsealed, "tracker_sealer_tree_size") == 0
    assert value(sealed, "tracker_sealer_unsealed_events") == 0
    assert value(sealed, "tracker_sealer_tree_size") == 2
    assert value(sealed, "tracker_sealer_last_seal_timestamp_seconds") == clock().timestamp()


async def test_the_pool_and_database_gauges_describe_this_process(scraped: Client) -> None:
    samples = await metrics(scraped)

    size = value(samples, "tracker_pool_connections")
    assert size >= 1
    assert (
        value(samples, "tracker_pool_idle_connections")
        + value(samples, "tracker_pool_in_use_connections")
        == size
    )
    assert value(samples, "tracker_pool_max_connections") == 3
    assert value(samples, "tracker_database_up") == 1
    assert value(samples, "tracker_database_embedded") == 0
    for collector in ("database", "horizon", "projections", "sealer"):
        assert value(samples, "tracker_scrape_collector_up", collector=collector) == 1


async def test_a_reader_that_times_out_is_reported_and_the_scrape_still_answers(
    scraped: Client, own_url: str, db: asyncpg.Pool
) -> None:
    locker = await asyncpg.connect(own_url)
    try:
        async with locker.transaction():
            # The projections reader waits on this lock past its timeout.
            await locker.execute("LOCK TABLE projection_generations IN ACCESS EXCLUSIVE MODE")
            samples = await metrics(scraped)
    finally:
        await locker.close()

    assert value(samples, "tracker_scrape_collector_up", collector="projections") == 0
    assert value(samples, "tracker_scrape_collector_up", collector="horizon") == 1
    assert not any(name.startswith("tracker_projection_lag") for name, _ in samples)
    assert value(samples, "tracker_database_up") == 1
