"""Readings taken at scrape time: the database's state, as Prometheus metric families.

Each reader has a short timeout and never fails the scrape: a reader that errs or times out
is reported by tracker_scrape_collector_up 0 instead of its families.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import cast

import asyncpg
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from projections.status import statuses
from tracker.audit.backlog import backlog
from tracker.database import Connection
from tracker.eventstore.horizon import horizon
from tracker.feed.store import feed_state
from tracker.observability.instruments import BATCH_BOUNDS, COUNTS

log = logging.getLogger("tracker.metrics")

# Well inside Prometheus's default 10 s scrape timeout, with the readers run side by side.
TIMEOUT_SECONDS = 2.0
# Every state a projection generation can show (projections/status.py), each exposed 0 or 1.
STATES = ("running", "stopped", "rebuilding", "rebuild interrupted", "failed", "retired")
Reader = Callable[[Connection], Awaitable[list[Metric]]]
LIMITS = f"""
SET LOCAL statement_timeout = {int(TIMEOUT_SECONDS * 1000)};
SET LOCAL lock_timeout = {int(TIMEOUT_SECONDS * 1000)}
"""


class Sources:
    """What the readings look at beside the pool: the embedded data folder, if any."""

    def __init__(self, projections: Sequence[str], embedded_data: Path | None) -> None:
        self.projections = projections
        self.embedded_data = embedded_data


async def read(pool: asyncpg.Pool, sources: Sources) -> list[Metric]:
    """Every reading; the pool's usage first, before the readers borrow connections."""
    families = counted() + pool_usage(pool) + embedded(sources.embedded_data)
    readers: dict[str, Reader] = {
        "database": database_up,
        "horizon": horizon_lag,
        "projections": lambda p: projection_lag(p, sources.projections),
        "sealer": sealer_lag,
        "subscriptions": subscription_states,
    }
    results = await asyncio.gather(*(_timed(n, r, pool) for n, r in readers.items()))
    up = GaugeMetricFamily(
        "tracker_scrape_collector_up",
        "1 if the reader answered within its timeout, 0 if it failed (see the log)",
        labels=["collector"],
    )
    took = GaugeMetricFamily(
        "tracker_scrape_collector_duration_seconds",
        "How long the reader took",
        labels=["collector"],
    )
    for name, (found, seconds) in zip(readers, results, strict=True):
        up.add_metric([name], 0 if found is None else 1)
        took.add_metric([name], seconds)
        families += found or []
    answered = results[0][0] is not None
    reachable = _gauge("tracker_database_up", "1 if the database answered this scrape", answered)
    return [*families, reachable, up, took]


async def _timed(
    name: str, reader: Reader, pool: asyncpg.Pool
) -> tuple[list[Metric] | None, float]:
    """The reader's families and its duration; None for families if it failed or timed out."""
    started = time.perf_counter()
    try:
        # The server cancels a slow statement itself, which leaves the connection clean; the
        # client's timeout is the backstop for a pool with no connection to lend.
        async with (
            asyncio.timeout(TIMEOUT_SECONDS * 2),
            pool.acquire(timeout=TIMEOUT_SECONDS) as conn,
            conn.transaction(readonly=True),
        ):
            await conn.execute(LIMITS)
            found = await reader(conn)
    except Exception as error:
        log.warning("metrics reader %s failed: %s: %s", name, type(error).__name__, error)
        found = None
    return found, time.perf_counter() - started


def counted() -> list[Metric]:
    """What this process counted as it went: appends, events, batches, runner restarts."""
    c = COUNTS
    bounds = [*(str(float(b)) for b in BATCH_BOUNDS), "+Inf"]
    batches = HistogramMetricFamily(
        "tracker_group_commit_batch_size",
        "Single-event appends written together by one group-commit statement",
        buckets=list(zip(bounds, accumulate(c.batch_buckets), strict=True)),
        sum_value=c.batched,
    )
    webhooks = CounterMetricFamily(
        "tracker_webhook_deliveries",
        "Webhook delivery attempts by this process, by outcome (ok: a 2xx)",
        labels=["outcome"],
    )
    webhooks.add_metric(["ok"], c.webhooks_delivered)
    webhooks.add_metric(["failed"], c.webhooks_failed)
    return [
        CounterMetricFamily(
            "tracker_appends", "Appends committed to the event store (each atomic)", c.appends
        ),
        CounterMetricFamily(
            "tracker_events_appended", "Events committed to the event store", c.events
        ),
        webhooks,
        batches,
        CounterMetricFamily(
            "tracker_projection_runner_retries",
            "Times the projection runner lost the database and started over after a pause",
            c.runner_retries,
        ),
    ]


def pool_usage(pool: asyncpg.Pool) -> list[Metric]:
    """Connections this process holds open, idle and lent out, and its ceiling."""
    size, idle = pool.get_size(), pool.get_idle_size()
    return [
        _gauge("tracker_pool_connections", "Connections the pool holds open", size),
        _gauge("tracker_pool_idle_connections", "Open connections not lent out", idle),
        _gauge("tracker_pool_in_use_connections", "Connections lent out now", size - idle),
        _gauge(
            "tracker_pool_max_connections",
            "The pool's ceiling (TRACKER_POOL_SIZE)",
            pool.get_max_size(),
        ),
    ]


def embedded(data: Path | None) -> list[Metric]:
    """Whether the database is the embedded one, and the free space where its data lives."""
    families: list[Metric] = [
        _gauge(
            "tracker_database_embedded",
            "1 if the embedded PostgreSQL is used",
            0 if data is None else 1,
        )
    ]
    if data is not None and data.exists():
        usage = shutil.disk_usage(data)
        families.append(
            _gauge(
                "tracker_embedded_disk_free_bytes",
                "Free space on the embedded database's file system",
                usage.free,
            )
        )
    return families


async def database_up(conn: Connection) -> list[Metric]:
    """Nothing but an answer: read() turns it into tracker_database_up."""
    await conn.fetchval("SELECT 1")
    return []


async def horizon_lag(conn: Connection) -> list[Metric]:
    """The transaction horizon: how long it has waited, and what it holds back."""
    now = await horizon(conn)
    families = [
        _gauge(
            "tracker_horizon_age_seconds",
            "Age of the oldest open transaction holding the readable log back",
            now.age_seconds,
        ),
        _gauge(
            "tracker_horizon_held_back_events",
            "Committed events readers may not pass until that transaction ends",
            now.held_back,
        ),
    ]
    blocker = GaugeMetricFamily(
        "tracker_horizon_blocker_info",
        "The transaction the horizon waits for (1), absent when none",
        labels=["pid", "database", "application", "state"],
    )
    if (b := now.blocker) is not None:
        blocker.add_metric([str(b.pid), b.database, b.application, b.state], 1)
    return [*families, blocker]


async def projection_lag(conn: Connection, running: Sequence[str]) -> list[Metric]:
    """Each projection generation's checkpoint, lag and state."""
    labels = ["projection", "generation"]
    position = GaugeMetricFamily(
        "tracker_projection_checkpoint_position",
        "Global position of the last event applied",
        labels=labels,
    )
    events = GaugeMetricFamily(
        "tracker_projection_lag_events", "Committed events not yet applied", labels=labels
    )
    seconds = GaugeMetricFamily(
        "tracker_projection_lag_seconds", "Age of the oldest event not yet applied", labels=labels
    )
    applied = CounterMetricFamily(
        "tracker_projection_events_applied", "Events this generation has applied", labels=labels
    )
    state = GaugeMetricFamily(
        "tracker_projection_state", "1 for the generation's state", labels=[*labels, "state"]
    )
    # statuses() runs only fetch and fetchval, which a connection has as a pool does.
    for s in await statuses(cast(asyncpg.Pool, conn), running):
        key = [s.name, str(s.generation)]
        position.add_metric(key, int(s.checkpoint.partition(":")[2]))
        events.add_metric(key, s.lag_events)
        seconds.add_metric(key, s.lag_seconds)
        applied.add_metric(key, s.events_applied)
        for name in STATES:
            state.add_metric([*key, name], 1 if s.state == name else 0)
    return [position, events, seconds, applied, state]


async def sealer_lag(conn: Connection) -> list[Metric]:
    """Events no seal covers yet, the sealed tree's size and when it was sealed."""
    now = await backlog(conn)
    sealed_at = 0.0 if now.sealed_at is None else now.sealed_at.timestamp()
    return [
        _gauge(
            "tracker_sealer_unsealed_events", "Committed events no seal covers yet", now.unsealed
        ),
        _gauge("tracker_sealer_tree_size", "Events the newest seal covers", now.tree_size),
        _gauge(
            "tracker_sealer_last_seal_timestamp_seconds",
            "When the newest seal was made (Unix time; 0: never)",
            sealed_at,
        ),
    ]


async def subscription_states(conn: Connection) -> list[Metric]:
    """Subscriptions by status, and the deliveries waiting on a retry or dead-lettered."""
    active, paused, waiting, dead = await feed_state(conn)
    subscriptions = GaugeMetricFamily(
        "tracker_subscriptions", "Webhook subscriptions by status", labels=["status"]
    )
    subscriptions.add_metric(["active"], active)
    subscriptions.add_metric(["paused"], paused)
    queued = GaugeMetricFamily(
        "tracker_webhook_queue",
        "Webhook deliveries waiting on a retry (waiting) or in the dead-letter lists (dead)",
        labels=["state"],
    )
    queued.add_metric(["waiting"], waiting)
    queued.add_metric(["dead"], dead)
    return [subscriptions, queued]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class Snapshot:
    """A collector over fixed families and a registry's own, for one scrape."""

    def __init__(self, registries: Iterable[object], families: list[Metric]) -> None:
        self.registries, self.families = registries, families

    def collect(self) -> Iterator[Metric]:
        """The registries' metrics, then this scrape's readings."""
        for registry in self.registries:
            yield from registry.collect()  # type: ignore[attr-defined]
        yield from self.families
