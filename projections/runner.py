"""Run projections: each batch of events and its checkpoint commit together, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from projections.base import Projection
from projections.faults import transient
from projections.history import create_history
from projections.horizon import HorizonWatch
from projections.lease import Leases, LostLease
from tracker.database import Connection
from tracker.eventstore import Checkpoint, EventStore
from tracker.eventstore.log import newest
from tracker.observability.instruments import runner_retried

log = logging.getLogger(__name__)

# Advisory lock namespaces (first key); the second key is hashtext(projection name). Leadership
# is a lease (projections/lease.py), not a lock: a frozen process keeps its locks.
BATCH, REBUILD = 7302, 7303

CREATED = "SELECT live_generation FROM projections WHERE name = $1"
ANY_GENERATION = "SELECT EXISTS (SELECT FROM projection_generations WHERE name = $1)"
CREATE = "INSERT INTO projections (name, live_generation) VALUES ($1, $2)"
NEW_GENERATION = """
INSERT INTO projection_generations (name, generation, state) VALUES ($1, $2, $3)
"""
PUBLISH = "SELECT projection_publish($1, $2)"
SEARCH_PATH = "SELECT set_config('search_path', $1, true)"
CREATE_SCHEMA = "SELECT format('CREATE SCHEMA %I', $1::text)"
DROP_SCHEMA = "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)"
LOCK_BATCH = "SELECT pg_advisory_xact_lock($1, hashtext($2))"
LIVE = """
SELECT g.generation, g.transaction_id, g.position, g.state
FROM projections p JOIN projection_generations g
  ON g.name = p.name AND g.generation = p.live_generation
WHERE p.name = $1
"""
GENERATION = """
SELECT generation, transaction_id, position, state FROM projection_generations
WHERE name = $1 AND generation = $2
"""
ADVANCE = """
UPDATE projection_generations
SET transaction_id = $3, position = $4, events_applied = events_applied + $5, updated_at = now(),
    events_per_second = 0.7 * events_per_second
        + 0.3 * $5 / greatest(extract(epoch FROM clock_timestamp() - updated_at), 0.001)
WHERE name = $1 AND generation = $2
"""
FAIL = """
UPDATE projection_generations
SET state = 'failed', error = $3, failed_position = $4, updated_at = now()
WHERE name = $1 AND generation = $2
"""

Connect = Callable[[], Awaitable[asyncpg.Connection]]


async def create_generation(
    conn: Connection, projection: Projection, generation: int, state: str
) -> None:
    """Create one generation's schema and tables, and its checkpoint row, in conn's transaction."""
    await create_tables(conn, projection, generation)
    await conn.execute(NEW_GENERATION, projection.name, generation, state)


async def create_tables(conn: Connection, projection: Projection, generation: int) -> None:
    """Create one generation's schema with its tables and indexes, in conn's transaction."""
    schema = projection.schema(generation)
    await conn.execute(await conn.fetchval(CREATE_SCHEMA, schema))
    await conn.execute(SEARCH_PATH, f"{schema}, public")
    await conn.execute(projection.ddl)
    await create_history(conn, schema, projection.history, projection.history_omits)
    if projection.history_ddl:
        await conn.execute(projection.history_ddl)
    await conn.execute(SEARCH_PATH, "public")


async def ensure_projection(conn: Connection, projection: Projection) -> None:
    """Create and publish generation 1 if the projection has never run (in conn's transaction).

    A projection with a generation but none live is in its first build (see build_new): it is
    published when that is done, never before.
    """
    await conn.execute(LOCK_BATCH, BATCH, projection.name)
    if await conn.fetchval(CREATED, projection.name) is None and not await conn.fetchval(
        ANY_GENERATION, projection.name
    ):
        await create_generation(conn, projection, 1, "live")
        await conn.execute(CREATE, projection.name, 1)
        await conn.execute(PUBLISH, projection.schema(1), list(projection.tables))


async def _generation_row(
    conn: Connection, projection: Projection, generation: int | None
) -> asyncpg.Record | None:
    """The checkpoint row of the live generation, or of a given one."""
    if generation is None:
        return await conn.fetchrow(LIVE, projection.name)
    return await conn.fetchrow(GENERATION, projection.name, generation)


class ProjectionRunner:
    """Keeps projections up to date with the log; safe to run in several processes at once."""

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        connect: Connect,
        batch_size: int = 1000,
        takeover_seconds: float = 1.0,
        lease_seconds: float = 3.0,
        horizon_warning_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.projections = list(projections)
        self.connect = connect
        self.batch_size = batch_size
        self.takeover_seconds = takeover_seconds
        self.leases = Leases(lease_seconds, renew_seconds=takeover_seconds)
        self.horizon = HorizonWatch(horizon_warning_seconds)

    async def ensure(self) -> None:
        """Create generation 1 of every projection that has never run."""
        for projection in self.projections:
            async with self.store.pool.acquire() as conn, conn.transaction():
                await ensure_projection(conn, projection)

    async def step(
        self, projection: Projection, generation: int | None = None, leased: bool = False
    ) -> int:
        """Apply the next batch to the live (or a given) generation; return how many events.

        With leased, each transaction first checks that this runner still holds the
        projection's lease (LostLease if not). The database's passing troubles propagate for
        the caller to retry; any other error is looked for event by event.
        """
        async with self.store.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    await self._lock(conn, projection, leased)
                    return await self.step_in(conn, projection, generation)
            except LostLease:
                raise
            except Exception as error:
                if transient(error):
                    raise
                log.exception("projection %s failed; finding the event", projection.name)
        return await self._isolate_failure(projection, generation, leased)

    async def _lock(self, conn: Connection, projection: Projection, leased: bool) -> None:
        if leased:
            # First, so that a leader frozen anywhere in the batch holds no lock for long.
            await self.leases.limit_idling(conn)
        # Serialises with a rebuild's switch-over, which moves the live generation.
        await conn.execute(LOCK_BATCH, BATCH, projection.name)
        if leased:
            await self.leases.fence(conn, projection.name)

    async def step_in(
        self,
        conn: Connection,
        projection: Projection,
        generation: int | None = None,
        limit: int | None = None,
    ) -> int:
        """One batch inside the caller's transaction, which holds the projection's batch lock."""
        row = await _generation_row(conn, projection, generation)
        if row is None or row["state"] == "failed":
            return 0
        after = Checkpoint(row["transaction_id"], row["position"])
        page = await self.store.read_all(after, limit or self.batch_size, connection=conn)
        if not page.events:
            return 0
        await conn.execute(SEARCH_PATH, f"{projection.schema(row['generation'])}, public")
        await projection.apply(conn, page.events)
        last = page.events[-1]
        await conn.execute(
            ADVANCE,
            projection.name,
            row["generation"],
            last.transaction_id,
            last.position,
            len(page.events),
        )
        return len(page.events)

    async def _isolate_failure(
        self, projection: Projection, generation: int | None, leased: bool
    ) -> int:
        """Apply the failed batch one event at a time, keep the good ones, stop at the bad one:
        an error the event reproduces alone, and not one of the database's passing troubles."""
        applied = 0
        while True:
            async with self.store.pool.acquire() as conn:
                try:
                    async with conn.transaction():
                        await self._lock(conn, projection, leased)
                        if await self.step_in(conn, projection, generation, limit=1) == 0:
                            return applied
                        applied += 1
                except LostLease:
                    raise
                except Exception as error:
                    if transient(error):
                        raise
                    await self._record_failure(conn, projection, generation, error)
                    return applied

    async def _record_failure(
        self, conn: Connection, projection: Projection, generation: int | None, error: Exception
    ) -> None:
        """Mark the generation failed at the event after its checkpoint, so it does not spin."""
        row = await _generation_row(conn, projection, generation)
        if row is None:
            return
        page = await self.store.read_all(Checkpoint(row["transaction_id"], row["position"]), 1)
        position = page.events[0].position if page.events else None
        message = f"{type(error).__name__}: {error}"[:2000]
        await conn.execute(FAIL, projection.name, row["generation"], message, position)
        log.error("projection %s stopped at position %s: %s", projection.name, position, message)

    async def run_until_caught_up(self, seconds: float = 30.0) -> None:
        """Apply every event committed before the call; tests use this instead of sleeping.

        A transaction still open elsewhere can hold the horizon back for a moment, so an empty
        batch is not proof of being caught up: wait until the checkpoint passes the head.
        """
        await self.ensure()
        head = await newest(self.store.pool)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        for projection in self.projections:
            while await self.step(projection) > 0 or not await self._reached(projection, head):
                if loop.time() > deadline:
                    raise TimeoutError(f"{projection.name} did not catch up")
                await asyncio.sleep(0.01)

    async def _reached(self, projection: Projection, head: Checkpoint | None) -> bool:
        row = await self.store.pool.fetchrow(LIVE, projection.name)
        if head is None or row is None or row["state"] == "failed":
            return True
        return Checkpoint(row["transaction_id"], row["position"]) >= head

    async def run(self, stop: asyncio.Event, poll_seconds: float = 0.05) -> None:
        """Lead whichever projections nobody else leads, and keep them current; a lost
        database is retried after a pause, never the end of the runner."""
        names = [p.name for p in self.projections]
        keeper = asyncio.create_task(self.leases.keep(stop, self.connect, names))
        try:
            while not stop.is_set():
                try:
                    await self.ensure()
                    await self._follow(stop, poll_seconds)
                except Exception:
                    log.warning("projection runner lost the database; retrying", exc_info=True)
                    runner_retried()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.takeover_seconds):
                            await stop.wait()
        finally:
            if not stop.is_set():
                keeper.cancel()  # cancelled or failed: the keeper does not outlive the runner
            await asyncio.gather(keeper, return_exceptions=True)

    async def _follow(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Until stop: apply batches to the projections this runner holds the lease of."""
        retries = Backoff()
        while not stop.is_set():
            busy = False
            for p in self.projections:
                if p.name in self.leases.held and retries.due(p.name):
                    busy = await self._batch(p, retries) or busy
            if not busy:
                if self.leases.held:
                    await self.horizon.check(self.store.pool)
                await self.store.watcher.wait(min(poll_seconds, retries.next_in()))

    async def _batch(self, projection: Projection, retries: Backoff) -> bool:
        """One leased batch; the database's passing troubles are retried with a backoff and
        shown as the projection's state meanwhile. Whether a full batch was applied."""
        name = projection.name
        try:
            applied = await self.step(projection, leased=True)
        except LostLease:
            return False
        except Exception as error:
            if not transient(error):
                raise
            delay = retries.failed(name)
            runner_retried()
            log.warning("projection %s: %s; retrying in %.1f s", name, error, delay)
            await self.leases.retrying(self.store.pool, name, error)
            return False
        if retries.succeeded(name):
            log.info("projection %s: running again", name)
            await self.leases.recovered(self.store.pool, name)
        return applied == self.batch_size


class Backoff:
    """Per projection: when to try again after a transient error, doubling up to a cap."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self.first, self.cap = first, cap
        self._attempts: dict[str, int] = {}
        self._next: dict[str, float] = {}

    def due(self, name: str) -> bool:
        """Whether the projection may be tried now."""
        return time.monotonic() >= self._next.get(name, 0.0)

    def next_in(self) -> float:
        """Seconds until the next projection waiting on a retry is due (inf if none)."""
        if not self._next:
            return float("inf")
        return max(0.0, min(self._next.values()) - time.monotonic())

    def failed(self, name: str) -> float:
        """Record a failure; return the delay before the next attempt."""
        attempts = self._attempts.get(name, 0) + 1
        self._attempts[name] = attempts
        delay: float = min(self.cap, self.first * 2.0 ** (attempts - 1))
        self._next[name] = time.monotonic() + delay
        return delay

    def succeeded(self, name: str) -> bool:
        """Record a success; whether the projection had been retrying."""
        self._next.pop(name, None)
        return self._attempts.pop(name, None) is not None
