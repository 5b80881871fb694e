"""Load aggregates from their streams (through a cache) and save their new events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from tracker.application.errors import ConcurrencyError, NotFound
from tracker.eventstore.cache import AggregateCache, private_copy
from tracker.eventstore.envelope import AppendResult, Checkpoint, Context
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.store import EventStore

A = TypeVar("A", bound=Aggregate)

log = logging.getLogger(__name__)
PAGE = 1000

# The streams the command running in this task has read, at the versions it read them.
_READS: ContextVar[dict[UUID, int] | None] = ContextVar("reads", default=None)


class Repository:
    """Aggregates in, aggregates out: the domain never sees an envelope.

    Recently used aggregates stay in memory. A plain read brings them up to date with one query
    for newer events. Inside a unit of work they are used as they are, unless marked stale, and
    the save is conditional on every stream the command read or wrote still being at the
    version it read: if one moved (another process wrote to it), nothing is written, the
    streams are marked stale and the command is retried on their latest state. Following the
    log (watch_other_writers) brings them up to date with other processes' writes in the
    background, so that a command on a stream another process wrote usually finds it current
    instead of failing its save.
    """

    def __init__(self, store: EventStore, mapper: EventMapper, cache_size: int = 10_000) -> None:
        self.store = store
        self.mapper = mapper
        self.cache = AggregateCache(cache_size)
        self._stale: set[UUID] = set()

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Record what the command reads, so that saving can check none of it moved."""
        token = _READS.set({})
        try:
            yield
        finally:
            _READS.reset(token)

    async def get(
        self, cls: type[A], aggregate_id: UUID, version: int | None = None, *, fresh: bool = False
    ) -> A:
        """The aggregate (latest, or as of a version) as a private copy the caller may change."""
        if version is not None:
            return await self._load(cls, aggregate_id, version)
        cached = self.cache.peek(aggregate_id)
        if cached is None:
            # Loaded for this caller alone, so no copy is needed; saving it caches it.
            return self._read(await self._load(cls, aggregate_id))
        return private_copy(await self._current(cls, aggregate_id, cached, fresh))

    async def read(self, cls: type[A], aggregate_id: UUID, *, fresh: bool = False) -> A:
        """The aggregate's latest state, shared with other readers: never change it."""
        cached = self.cache.peek(aggregate_id)
        if cached is None:
            aggregate = await self._load(cls, aggregate_id)
            self.cache.put(aggregate)
            return self._read(aggregate)
        return await self._current(cls, aggregate_id, cached, fresh)

    async def _load(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """Replay the stream, up to a version if given."""
        records = await self.store.read_stream(aggregate_id, to_version=version)
        return self._of_kind(cls, aggregate_id, self.mapper.rebuild(records))

    async def _current(self, cls: type[A], aggregate_id: UUID, cached: Aggregate, fresh: bool) -> A:
        """The cached aggregate, caught up unless a unit of work may use it as it is."""
        if fresh or _READS.get() is None or aggregate_id in self._stale:
            await self._catch_up(cached)
        return self._read(self._of_kind(cls, aggregate_id, cached))

    def _read(self, aggregate: A) -> A:
        """Note the version a unit of work read, for the save's guard."""
        reads = _READS.get()
        if reads is not None:
            reads[aggregate.id] = aggregate.version
        return aggregate

    async def _catch_up(self, aggregate: Aggregate) -> None:
        """Apply the stream's events newer than the cached state, in place."""
        try:
            records = await self.store.read_stream(aggregate.id, from_version=aggregate.version + 1)
            for record in records:
                # Another reader may have applied some of them while this one awaited the query.
                if record.version == aggregate.version + 1:
                    self.mapper.to_domain_event(record).mutate(aggregate)
        except BaseException:
            self.cache.forget(aggregate.id)
            raise
        self._stale.discard(aggregate.id)

    def _of_kind(self, cls: type[A], aggregate_id: UUID, aggregate: Aggregate | None) -> A:
        if not isinstance(aggregate, cls):
            raise NotFound(self.mapper.stream_types[cls], aggregate_id)
        return aggregate

    async def save(
        self,
        *aggregates: Aggregate,
        context: Context,
        idempotency_key: str | None = None,
        fingerprint: bytes | None = None,
    ) -> AppendResult:
        """Append every aggregate's pending events in one transaction.

        Inside a unit of work, only if every other stream the command read is unchanged.
        """
        reads = _READS.get()
        appends = self.mapper.pending(*aggregates)
        written = {a.stream_id for a in appends}
        unchanged = {i: v for i, v in (reads or {}).items() if i not in written}
        try:
            result = await self.store.append(
                *appends,
                unchanged=unchanged,
                context=context,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
        except ConcurrencyError:
            self._mark_stale(written | unchanged.keys())
            raise
        # Only a unit of work's aggregates are kept: they are copies nobody changes after saving.
        if reads is not None and not result.replayed:
            for aggregate in aggregates:
                self.cache.put(aggregate)
        return result

    async def watch_other_writers(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Until stop is set: follow the log, and bring cached aggregates whose streams moved on
        up to date, with one query per poll for all of them (or mark them stale). Only an
        optimisation: saves stay conditional, so a late one costs a retry, never a lost update."""
        checkpoint: Checkpoint | None = None  # from the head: nothing cached is older
        while not stop.is_set():
            versions: list[tuple[UUID, int]] = []
            try:
                if checkpoint is None:
                    checkpoint = await self.store.head()
                versions, checkpoint = await self.store.versions_after(checkpoint, PAGE)
                await self._catch_up_with(versions)
            except Exception:
                # A lost connection fails in several ways, none of which may end the watch.
                log.warning("could not follow other processes' writes", exc_info=True)
            if len(versions) < PAGE:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll_seconds):
                        await stop.wait()

    async def _catch_up_with(self, versions: list[tuple[UUID, int]]) -> None:
        """Apply the events behind these stream versions to the cached aggregates; mark stale
        any that could not be brought that far."""
        latest: dict[UUID, int] = {}  # the version each cached stream behind has reached
        after: dict[UUID, int] = {}  # and the version its cached aggregate is at
        for stream_id, version in versions:
            cached = self.cache.peek(stream_id)
            if cached is not None and cached.version < version:
                latest[stream_id], after[stream_id] = version, cached.version
        if not latest:
            return
        for record in await self.store.read_streams_after(list(after.items())):
            aggregate = self.cache.peek(record.stream_id)
            # Commands and reads go on meanwhile: one may have caught it up, or replaced it.
            if aggregate is not None and record.version == aggregate.version + 1:
                try:
                    self.mapper.to_domain_event(record).mutate(aggregate)
                except Exception:
                    log.exception("could not apply %s to a cached aggregate", record.type)
                    self.cache.forget(record.stream_id)
        behind = {
            i for i, v in latest.items() if (a := self.cache.peek(i)) is not None and a.version < v
        }
        if behind:
            self._mark_stale(behind)

    def is_stale(self, aggregate_id: UUID) -> bool:
        """Whether the cached aggregate is known to be behind its stream."""
        return aggregate_id in self._stale

    def _mark_stale(self, ids: set[UUID]) -> None:
        if len(self._stale) > self.cache.capacity:  # ids of entries since dropped pile up
            self._stale.clear()
            self.cache.clear()
        self._stale |= ids

    async def replay(self, idempotency_key: str, fingerprint: bytes) -> AppendResult | None:
        """The result of an earlier save with this key, if any; a different request is refused."""
        return await self.store.replay(idempotency_key, fingerprint)
