"""The composition root: create_app() wires settings, the pool and the controllers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, License, SecurityScheme

from projections.queries.cache import ViewCache
from projections.rebuild import build_new
from projections.registry import projection_runner
from tracker.api import problems
from tracker.api.contract import command_operations, complete
from tracker.api.dependencies import (
    authenticate,
    provide_call,
    provide_commands,
    provide_principal,
    provide_repository,
)
from tracker.api.docs_page import ScalarPage, docs_router
from tracker.api.health import HealthController
from tracker.api.methods import answer_head_and_options
from tracker.api.metrics import REQUESTS, metrics_controller
from tracker.api.openapi import finish
from tracker.api.request import TrackerRequest
from tracker.api.request_log import log_requests
from tracker.api.resources.agreement_register import AgreementRegisterController
from tracker.api.resources.agreements import AgreementController
from tracker.api.resources.audit import AuditController
from tracker.api.resources.commitment_list import CommitmentListController
from tracker.api.resources.commitment_steps import CommitmentStepController
from tracker.api.resources.commitments import CommitmentController
from tracker.api.resources.directory import DIRECTORY_LISTS
from tracker.api.resources.event_export import EventExportController
from tracker.api.resources.event_stream import EventStreamController
from tracker.api.resources.forum_lists import ForumListController
from tracker.api.resources.forums import ForumController
from tracker.api.resources.governance_lists import (
    AgreementListController,
    MeetingListController,
    PurposeListController,
)
from tracker.api.resources.history import (
    CommitmentHistoryController,
    EventLogController,
    StreamEventsController,
)
from tracker.api.resources.leader_views import LeaderViewController
from tracker.api.resources.leaders import LeaderController
from tracker.api.resources.me import MeController
from tracker.api.resources.meeting_minutes import MinutesController
from tracker.api.resources.meeting_views import MeetingViewController
from tracker.api.resources.meetings import MeetingController
from tracker.api.resources.organisations import OrganisationController
from tracker.api.resources.projection_status import ProjectionStatusController
from tracker.api.resources.purpose_views import PurposeViewController
from tracker.api.resources.purposes import PurposeController
from tracker.api.resources.subscriptions import SubscriptionController
from tracker.api.time_travel import provide_views
from tracker.api.view_limits import Admissions, ViewLimits
from tracker.api.webhooks_doc import add_webhooks
from tracker.api.write_refusals import WriteRefusals
from tracker.application.clock import Now, system_now
from tracker.audit.keys import signing_key
from tracker.audit.sealer import running_sealer
from tracker.connections import API
from tracker.database import create_pool, database_url
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.feed.running import feed_policy, running_deliveries
from tracker.migrate import migrate
from tracker.observability import logs
from tracker.settings import Settings
from tracker.tokens import Authenticator

log = logging.getLogger("tracker")

# Reachable without a token (their handlers carry opt={"public": True}).
PUBLIC_OPERATIONS = {"getHealth", "getReadiness", "getLiveness"}

CONTROLLERS = [
    HealthController,
    OrganisationController,
    LeaderController,
    ForumController,
    PurposeController,
    MeetingController,
    MinutesController,
    CommitmentController,
    CommitmentStepController,
    AgreementController,
    LeaderViewController,
    CommitmentListController,
    PurposeViewController,
    MeetingViewController,
    AgreementRegisterController,
    PurposeListController,
    MeetingListController,
    AgreementListController,
    ForumListController,
    ProjectionStatusController,
    AuditController,
    EventLogController,
    EventExportController,
    EventStreamController,
    StreamEventsController,
    CommitmentHistoryController,
    MeController,
    SubscriptionController,
    # After the controllers owning POST on their paths, so that they merge.
    *DIRECTORY_LISTS,
]


@asynccontextmanager
async def running_projections(
    settings: Settings, store: EventStore, url: str
) -> AsyncIterator[None]:
    """Keep the views current in this process, unless they run in a process of their own."""
    if not settings.run_projections:
        yield
        return
    runner = projection_runner(settings, store, url)
    # Before serving: a projection new in this release is built from the log, not shown empty.
    await build_new(runner)
    await runner.ensure()
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop, poll_seconds=settings.poll_interval))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def watching_other_writers(
    repository: Repository, poll_seconds: float
) -> AsyncIterator[None]:
    """Keep the cached aggregates current with what other processes write."""
    stop = asyncio.Event()
    task = asyncio.create_task(repository.watch_other_writers(stop, poll_seconds))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


def quiet_garbage_collector() -> None:
    """Keep the cyclic garbage collector's passes out of request latency."""
    # Everything built so far lives as long as the process: keep it out of full passes,
    # which otherwise paused requests ~90 ms.
    gc.collect()
    gc.freeze()
    # At the default 700 net allocations, young passes ran ~110 times a second under load and
    # promoted the objects of requests in flight, which set off a ~10 ms full pass about once
    # a second: 5% of a worker's time. Requests free almost everything by reference counting,
    # so at 10,000 young passes nearly stop (a worker's time collecting over the warm-up and
    # run of bench/api.py's progress reports: 1.35-1.4 s at 700, 0.09-0.15 s at 10,000).
    gc.set_threshold(10_000, 10, 10)


def create_app(settings: Settings | None = None, now: Now = system_now) -> Litestar:
    """Build the app; it opens nothing until the lifespan starts."""
    settings = settings or Settings.from_env()
    # The service's own log setup, in place of litestar's: its queue handler hands every record
    # to a thread, which cost each logged request ~0.5 ms of the event loop's time.
    logs.configure(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        url = await asyncio.to_thread(database_url, settings)  # may start the embedded server
        pool = await create_pool(url, size=settings.pool_size, role=API, settings=settings)
        try:
            async with pool.acquire() as conn:
                applied = await migrate(conn)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            store = EventStore(pool, poll_interval=settings.poll_interval, now=now)
            app.state.pool = pool
            app.state.store = store
            app.state.repository = Repository(store, EventMapper(EVENT_TYPES, STREAM_TYPES))
            app.state.authenticator = Authenticator(pool, now)
            app.state.view_cache = (
                ViewCache(pool, settings.view_cache_mb * 2**20) if settings.view_cache_mb else None
            )
            app.state.now = now
            app.state.horizon_warning = settings.horizon_warning_seconds
            app.state.ready_max_lag_seconds = settings.ready_max_lag_seconds
            app.state.write_refusals = WriteRefusals(settings.ready_refused_write_seconds)
            app.state.admissions = Admissions(ViewLimits.of(settings))
            app.state.feed_policy = feed_policy(settings)
            app.state.heartbeat = settings.sse_heartbeat_seconds
            app.state.signing_key = await asyncio.to_thread(
                signing_key, settings.data_dir, settings.signing_key_file
            )
            async with (
                watching_other_writers(app.state.repository, settings.poll_interval),
                running_projections(settings, store, url),
                running_deliveries(settings, pool, app.state.repository, url, now),
                running_sealer(
                    url,
                    app.state.signing_key,
                    settings.seal_seconds,
                    now,
                    settings.log_origin,
                    settings,
                ),
            ):
                quiet_garbage_collector()
                yield
        finally:
            await pool.close()

    app = Litestar(
        route_handlers=[*CONTROLLERS, metrics_controller(settings)],
        lifespan=[lifespan],
        middleware=[REQUESTS.middleware],
        dependencies={
            "principal": Provide(provide_principal, sync_to_thread=False),
            "call": Provide(provide_call),
            "commands": Provide(provide_commands, sync_to_thread=False),
            "repository": Provide(provide_repository, sync_to_thread=False),
            "views": Provide(provide_views, sync_to_thread=False),
        },
        # Authenticates every request (and logs auditors' reads) before its handler runs.
        before_request=authenticate,
        exception_handlers={Exception: problems.handle},
        request_class=TrackerRequest,
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Commitment Tracker",
            version="0.1.0",
            description=DESCRIPTION,
            license=License(name="MIT", identifier="MIT"),  # as pyproject.toml and LICENSE
            path="/docs",
            render_plugins=[ScalarPage()],
            openapi_router=docs_router("/docs"),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A token from `tracker tokens issue`",
                    )
                }
            ),
            security=[{"bearer": []}],
        ),
    )
    public = PUBLIC_OPERATIONS | ({"getMetrics"} if settings.metrics_public else set())
    complete(app.openapi_schema, command_operations(app))
    finish(app.openapi_schema, public)
    add_webhooks(app.openapi_schema)
    answer_head_and_options(app)
    log_requests(app)
    return app


DESCRIPTION = """\
Who across the system is doing what, toward which shared purpose.

Every change is an immutable event. Commands are `POST`s to intention-revealing sub-resources
and answer with the stream's new `version` and the event's global `position`.

* **Idempotency**: send `Idempotency-Key` on any `POST`; a repeat returns the first answer
  (with `Idempotent-Replayed: true`) and writes nothing. A key belongs to its sender (the
  leader, for a leader's tokens; otherwise the token): another caller's same key is another
  key. Creations also accept `source_system` + `external_id`, which fix the new resource's
  id; only an integration or admin token named after the `source_system` may send them.
  Chosen ids may not be version-5 UUIDs, which are reserved for derived ids.
* **Concurrency**: `If-Match: "<version>"` makes a command conditional (412 on mismatch);
  without it the server applies the command to the latest state, retrying a few times.
* **Errors** are RFC 9457 problem details: `errors` names each invalid field, `rule` names
  the rule that refused a caller (403), `current_state` and `command` explain a 409. A 503
  with `Retry-After` means the database could not be reached, or refuses writes for now (a full
  disk: `detail` says why): retry a command with the same `Idempotency-Key` to learn whether it
  was applied.
* **Access**: leaders act as themselves; integrations record, and may name a leader with
  `On-Behalf-Of`; auditors read everything and write nothing; admins register
  organisations, leaders and forums.
* **Tokens**: an unknown, revoked or expired token is a 401; a deactivated leader's token is a
  403 (`rule`: `deactivated-leaders-cannot-act`). Revocation and deactivation take effect on
  every server within a second. More than 20 refused tokens within 10 s from one address are
  answered 429 with `Retry-After` instead; requests with a valid token are never throttled.
* **Provenance**: each event records its `source` as `api:<token kind>:<token name>`, taken
  from the token; no header sets it.
"""
