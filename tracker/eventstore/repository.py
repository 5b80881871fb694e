"""Load aggregates from their streams and save their new events."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from tracker.eventstore.envelope import AppendResult, Context
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.store import EventStore

A = TypeVar("A", bound=Aggregate)


class AggregateNotFound(Exception):
    """No stream with this id (or not of the asked-for kind)."""

    def __init__(self, kind: str, aggregate_id: UUID) -> None:
        super().__init__(f"{kind} {aggregate_id} not found")
        self.kind = kind
        self.aggregate_id = aggregate_id


class Repository:
    """Aggregates in, aggregates out: the domain never sees an envelope."""

    def __init__(self, store: EventStore, mapper: EventMapper) -> None:
        self.store = store
        self.mapper = mapper

    async def get(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """Rebuild an aggregate from its stream, optionally as of a version."""
        records = await self.store.read_stream(aggregate_id, to_version=version)
        aggregate = self.mapper.rebuild(records)
        if not isinstance(aggregate, cls):
            raise AggregateNotFound(self.mapper.stream_types[cls], aggregate_id)
        return aggregate

    async def save(
        self,
        *aggregates: Aggregate,
        context: Context,
        idempotency_key: str | None = None,
        fingerprint: bytes | None = None,
    ) -> AppendResult:
        """Append every aggregate's pending events in one transaction."""
        return await self.store.append(
            *self.mapper.pending(*aggregates),
            context=context,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )

    async def replay(self, idempotency_key: str, fingerprint: bytes) -> AppendResult | None:
        """The result of an earlier save with this key, if any; a different request is refused."""
        return await self.store.replay(idempotency_key, fingerprint)
