"""Deliver each subscription's events: at least once, in order per stream, retried with
backoff, then dead-lettered; one deliverer at a time, under a lease like the projections'.

A batch is delivered before its cursor moves: the cursor and the retry queue commit together
after the receiver's answers (every subscription's batch of a round in one transaction), so a
deliverer killed mid-batch sends the batch again (with the same webhook-ids) and loses nothing.
A batch goes out in waves of one event per stream, each wave pipelined over a few kept-alive
connections (one write for many deliveries: on a busy loopback the system calls cost more than
the rest of a delivery), so each stream's events go one after another; a failed delivery parks
itself and its stream's later events in the queue, holding back that stream alone.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from projections.lease import Leases
from tracker.application.clock import Now, system_now
from tracker.application.principal import LEADER
from tracker.application.subscriptions import receives
from tracker.domain import Leader
from tracker.domain.leader import DEACTIVATED
from tracker.eventstore import Checkpoint, Page, RecordedEvent
from tracker.eventstore.live import LogWatcher
from tracker.eventstore.log import events_at, newest, read_all
from tracker.eventstore.repository import Repository
from tracker.feed import rounds, store
from tracker.feed.attempts import attempt_of, down, first_failure, waiting
from tracker.feed.outbound import Client, Outcome
from tracker.feed.rounds import Settlement
from tracker.feed.sending import Sender
from tracker.feed.store import Attempt, Queued, Subscription
from tracker.feed.targets import Target

log = logging.getLogger(__name__)

LEASE = "webhook_deliveries"
BATCH = 500
# While a target answers nothing, the oldest waiting delivery probes it every tenth of the
# outage so far, within these bounds: a receiver back after a short outage catches up within
# seconds, not at its streams' next retry under backoff, and a long outage costs a probe a minute.
PROBE_EVERY = (timedelta(seconds=1), timedelta(seconds=60))
CHUNK = 100  # waiting deliveries of one stream read at once
Connect = Callable[[], Awaitable[asyncpg.Connection]]


class Deliverer(Sender):
    """Delivers every active subscription's events to its target."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        repository: Repository,
        client: Client,
        *,
        source: str,
        retry_for: timedelta,
        keep_attempts: int = 10_000,
        now: Now = system_now,
        wall: Now = system_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.pool = pool
        self.repository = repository
        self.client = client
        self.source = source
        self.retry_for = retry_for
        self.now = now
        # Receivers compare webhook-timestamp with their own clock: it is the real time of
        # sending, whatever moment the service's clock stands at.
        self.wall = wall
        self.jitter = jitter
        self.leases: Leases | None = None
        self.watcher: LogWatcher | None = None
        self._bodies: dict[int, bytes] = {}
        self._ready: dict[int, tuple[int, tuple[bytes, bytes, bytes]]] = {}
        self._targets: dict[str, Target] = {}
        # The names a round's bodies carry, looked up once per batch for the ids not yet known.
        self._names: dict[str, str] = {}
        self._looked: set[UUID] = set()
        self._mentions: dict[int, set[UUID]] = {}  # the ids each event this round mentions
        self._lookups: list[asyncio.Future[None]] = []
        # Subscriptions at the same cursor (most of them, most of the time) share a round's read
        # of the log: one read per cursor, not one per subscription.
        self._pages: dict[Checkpoint, asyncio.Future[Page]] = {}
        # The log is trimmed once a tenth of its limit has been added, not on every delivery;
        # a subscription not yet counted in this process is trimmed on its first round.
        self.keep_attempts = keep_attempts
        self._slack = max(1, keep_attempts // 10)
        self._logged: dict[UUID, int] = {}
        self._probed: dict[UUID, datetime] = {}
        self._settling: list[tuple[Subscription, Settlement]] = []

    async def step(self) -> bool:
        """One round over every active subscription; whether anything was delivered or parked."""
        subscriptions = await store.runnable(self.pool, self.now())
        # Subscriptions at the same place share a round's bodies: each is signed, not encoded,
        # once per subscription.
        self._bodies, self._ready = {}, {}
        self._names, self._looked, self._lookups, self._pages = {}, set(), [], {}
        self._mentions = {}
        self._settling = []
        done = await asyncio.gather(*(self._serve(s) for s in subscriptions))
        await self._settle()
        await self._trim(subscriptions)
        return any(done)

    async def run_until_idle(self, seconds: float = 30.0) -> None:
        """Step until every active subscription has read the log as it stands now and nothing
        is due (tests wait on this, never on time)."""
        target = await newest(self.pool) or Checkpoint()
        async with asyncio.timeout(seconds):
            while await self.step() or any(
                s.cursor < target for s in await store.runnable(self.pool, self.now())
            ):
                pass

    async def run(
        self, stop: asyncio.Event, connect: Connect, poll_seconds: float, leases: Leases
    ) -> None:
        """Deliver while this process holds the deliveries' lease, until stop."""
        self.leases = leases
        keeper = asyncio.create_task(self.leases.keep(stop, connect, [LEASE]))
        try:
            while not stop.is_set():
                worked = False
                if LEASE in self.leases.held:
                    try:
                        worked = await self.step()
                    except Exception:
                        log.warning("webhook deliveries: a round failed; retrying", exc_info=True)
                if not worked:
                    # An append in this process wakes the round at once; others' are polled.
                    await self._grown(stop, poll_seconds)
        finally:
            if not keeper.done():
                await asyncio.gather(keeper, return_exceptions=True)
            self.client.close()

    async def _trim(self, subscriptions: Sequence[Subscription]) -> None:
        """Keep each delivery log at its limit, pruning those that have grown by the slack."""
        for subscription in subscriptions:
            if self._logged.get(subscription.id, self._slack) >= self._slack:
                await store.prune(self.pool, subscription.id, self.keep_attempts)
                self._logged[subscription.id] = 0

    def _noted(self, subscription: Subscription, attempts: int) -> None:
        """Count attempts logged since the subscription's log was last trimmed."""
        self._logged[subscription.id] = self._logged.get(subscription.id, self._slack) + attempts

    async def _grown(self, stop: asyncio.Event, seconds: float) -> None:
        """Until the log grows in this process, stop is set, or seconds pass."""
        waits: list[asyncio.Future[bool]] = [asyncio.ensure_future(stop.wait())]
        if self.watcher is not None:
            waits.append(asyncio.ensure_future(self.watcher.wait(seconds)))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _serve(self, subscription: Subscription) -> bool:
        if not await self._may_read(subscription):
            return False
        retried = await self._retry(subscription)
        fed = await self._feed(subscription)
        return retried or fed

    async def _feed(self, subscription: Subscription) -> bool:
        """Deliver the next batch after the cursor, then move the cursor past it."""
        # The whole log, filtered here: the cursor moves over the events nobody selects too.
        page = await self._page(subscription.cursor)
        if not page.events:
            return False
        held = await store.held_streams(self.pool, subscription.id)
        streams: dict[UUID, list[RecordedEvent]] = {}
        for event in page.events:
            if await self._selects(subscription, event):
                streams.setdefault(event.stream_id, []).append(event)
        await self._name([e for es in streams.values() for e in es])
        now = self.now()
        parked, attempts = await self._deliver_waves(subscription, list(streams.values()), held)
        succeeded = any(a.status_code is not None and a.status_code < 300 for a in attempts)
        failed = any(a.attempt == 1 and a.next_attempt_at is not None for a in attempts)
        # Committed with the round's other batches, after every answer (see step).
        self._settling.append(
            (
                subscription,
                Settlement(
                    subscription_id=subscription.id,
                    cursor=page.checkpoint,
                    parked=parked,
                    attempts=attempts,
                    succeeded_at=now if succeeded else None,
                    failed=failed,
                    now=now,
                ),
            )
        )
        return True

    async def _settle(self) -> None:
        """Commit the round's batches together: one statement each for every cursor, parked
        delivery and attempt; then wake what waits behind targets that answer again."""
        settling, self._settling = self._settling, []
        if not settling:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            if self.leases is not None:
                await self.leases.fence(conn, LEASE)
            await rounds.commit(conn, [s for _, s in settling])
        for subscription, settled in settling:
            self._noted(subscription, len(settled.attempts))
            if settled.succeeded_at is not None and down(subscription):
                # The target answers again: what waits behind its failures need not wait longer.
                await store.wake(self.pool, subscription.id, settled.now)

    async def _page(self, cursor: Checkpoint) -> Page:
        """The batch after a cursor, read once per round whichever subscriptions ask."""
        read = self._pages.get(cursor)
        if read is None:
            read = self._pages[cursor] = asyncio.ensure_future(read_all(self.pool, cursor, BATCH))
        return await asyncio.shield(read)

    async def _deliver_waves(
        self, subscription: Subscription, streams: list[list[RecordedEvent]], held: set[UUID]
    ) -> tuple[list[Queued], list[Attempt]]:
        """Each stream's events in order, in waves of one event per stream (pipelined); from a
        stream's first failure on, its events queue for a retry. A held stream queues whole."""
        now = self.now()
        parked = [waiting(e, now) for es in streams if es[0].stream_id in held for e in es]
        going = [es for es in streams if es[0].stream_id not in held]
        attempts: list[Attempt] = []
        depth = 0
        while going:
            wave = [es[depth] for es in going]
            outcomes = await self._send_all(subscription, wave)
            still = []
            for events, event, outcome in zip(going, wave, outcomes, strict=True):
                if outcome.ok:
                    attempts.append(attempt_of(event, 1, now, outcome, None))
                    if depth + 1 < len(events):
                        still.append(events)
                    continue
                queued, attempt = first_failure(event, outcome, now, self.jitter())
                attempts.append(attempt)
                parked += [queued, *(waiting(e, now) for e in events[depth + 1 :])]
            going, depth = still, depth + 1
        return parked, attempts

    async def _retry(self, subscription: Subscription) -> bool:
        """Retry each stream's oldest waiting delivery that is due, and its followers after it.

        Once one goes through, the target is back: every waiting delivery becomes due at once
        rather than at its backoff's time, so a receiver that was down catches up promptly.
        """
        now = self.now()
        heads = await store.due_heads(self.pool, subscription.id, now, BATCH)
        if not heads:
            return await self._probe(subscription, now)
        streams = [h.stream_id for h in heads]
        rows = await store.streams_queue(self.pool, subscription.id, streams, BATCH * 4)
        if await self._drain_waves(subscription, rows, now):
            await store.wake(self.pool, subscription.id, now)
        return True

    async def _drain_waves(
        self, subscription: Subscription, rows: Sequence[Queued], now: datetime
    ) -> bool:
        """Send waiting deliveries of several streams (each stream's in order) in pipelined
        waves of one per stream, until each stream's first failure; whether any went through."""
        found = {e.position: e for e in await events_at(self.pool, [r.position for r in rows])}
        await self._name(list(found.values()))
        streams: dict[UUID, list[Queued]] = {}
        done: list[int] = []
        for queued in rows:
            if queued.position in found:
                streams.setdefault(queued.stream_id, []).append(queued)
            else:  # gone from the log (an import replaced it): nothing to send
                done.append(queued.position)
        attempts: list[Attempt] = []
        going, depth = list(streams.values()), 0
        while going:
            wave = [q[depth] for q in going]
            outcomes = await self._send_all(subscription, [found[q.position] for q in wave])
            still = []
            for queue, queued, outcome in zip(going, wave, outcomes, strict=True):
                event = found[queued.position]
                if not outcome.ok:
                    await self._failed_again(subscription, queued, event, outcome, now)
                    continue
                done.append(queued.position)
                attempts.append(attempt_of(event, queued.attempts + 1, now, outcome, None))
                if depth + 1 < len(queue):
                    still.append(queue)
            going, depth = still, depth + 1
        await store.settle(self.pool, subscription.id, done, attempts, now)
        self._noted(subscription, len(attempts))
        return bool(attempts)

    async def _probe(self, subscription: Subscription, now: datetime) -> bool:
        """Try a failing target with its oldest waiting delivery, if a probe is due; once it
        answers, everything waiting is due. A failed probe leaves the backoff as it was."""
        since = subscription.failing_since
        if since is None or not down(subscription):
            return False
        every = min(max((now - since) / 10, PROBE_EVERY[0]), PROBE_EVERY[1])
        if now - max(since, self._probed.get(subscription.id, since)) < every:
            return False
        heads = await store.due_heads(
            self.pool, subscription.id, datetime.max.replace(tzinfo=now.tzinfo), 1
        )
        if not heads:
            return False
        self._probed[subscription.id] = now
        if await self._drain(subscription, heads[0].stream_id, now, probe=True):
            await store.wake(self.pool, subscription.id, now)
            return True
        return False

    async def _drain(
        self, subscription: Subscription, stream_id: UUID, now: datetime, probe: bool = False
    ) -> bool:
        """Send a stream's waiting deliveries in order, a chunk at a time, until one fails;
        whether any went through. A probe's failure is logged but not rescheduled."""
        answered = False
        while rows := await store.stream_queue(self.pool, subscription.id, stream_id, CHUNK):
            found = {e.position: e for e in await events_at(self.pool, [r.position for r in rows])}
            await self._name(list(found.values()))
            done: list[int] = []
            attempts: list[Attempt] = []
            for queued in rows:
                event = found.get(queued.position)
                if event is None:  # gone from the log (an import replaced it): nothing to send
                    done.append(queued.position)
                    continue
                outcome = await self._send(subscription, event)
                if not outcome.ok:
                    await store.settle(self.pool, subscription.id, done, attempts, now)
                    self._noted(subscription, len(attempts))
                    if probe and not (answered or attempts):
                        await self._probe_failed(subscription, queued, event, outcome, now)
                        return False
                    await self._failed_again(subscription, queued, event, outcome, now)
                    return answered or bool(attempts)
                done.append(queued.position)
                attempts.append(attempt_of(event, queued.attempts + 1, now, outcome, None))
            await store.settle(self.pool, subscription.id, done, attempts, now)
            self._noted(subscription, len(attempts))
            answered = answered or bool(attempts)
        return answered

    async def _probe_failed(
        self,
        subscription: Subscription,
        queued: Queued,
        event: RecordedEvent,
        outcome: Outcome,
        now: datetime,
    ) -> None:
        """Log a failed probe; its delivery keeps the retry it had."""
        attempt = attempt_of(event, queued.attempts + 1, now, outcome, queued.next_attempt_at)
        await store.log_attempts(self.pool, subscription.id, [attempt])
        self._noted(subscription, 1)

    async def _failed_again(
        self,
        subscription: Subscription,
        queued: Queued,
        event: RecordedEvent,
        outcome: Outcome,
        now: datetime,
    ) -> None:
        """Schedule the next attempt, or at the retry period's end make it a dead letter."""
        first = queued.first_failed_at or now
        # The last attempt falls when the retry period ends; failing then, it is a dead letter.
        dead = now - first >= self.retry_for
        next_at = min(
            now + store.retry_delay(queued.attempts, self.jitter()), first + self.retry_for
        )
        await store.reschedule(
            self.pool, subscription.id, queued, now, next_at, outcome.status, outcome.error, dead
        )
        attempt = attempt_of(event, queued.attempts + 1, now, outcome, None if dead else next_at)
        await store.log_attempts(self.pool, subscription.id, [attempt])
        self._noted(subscription, 1)
        if dead:
            await self._dead_lettered(subscription, first)

    async def _may_read(self, subscription: Subscription) -> bool:
        """A deactivated leader's subscriptions wait: such a leader reads nothing."""
        principal = subscription.principal
        if principal.kind != LEADER or principal.leader_id is None:
            return True
        leader = await self.repository.read(Leader, principal.leader_id)
        return bool(leader.status != DEACTIVATED)

    async def _dead_lettered(self, subscription: Subscription, first_failed: datetime) -> None:
        """Pause a subscription whose target has answered no 2xx since the delivery first failed."""
        fresh = await store.one(self.pool, subscription.id)
        if fresh is None:
            return
        if fresh.last_success_at is None or fresh.last_success_at < first_failed:
            await store.set_status(self.pool, subscription.id, store.PAUSED, "failing")
            log.warning("paused subscription %s: its target kept failing", subscription.id)

    async def _selects(self, subscription: Subscription, event: RecordedEvent) -> bool:
        only = subscription.filter
        return await receives(
            self.repository,
            subscription.principal,
            only,
            event.stream_type,
            event.stream_id,
            event.type,
            (event.actor, event.on_behalf_of),
        )
