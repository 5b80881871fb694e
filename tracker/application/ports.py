"""What the use cases need from the outside world, declared here so dependencies point inward."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from tracker.application.errors import NotFound

__all__ = ["Context", "Landed", "NotFound", "Repository", "Saved"]

A = TypeVar("A", bound=Aggregate)


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """Who did it, for whom, through what, and why: shared by every event of one append."""

    actor: str
    on_behalf_of: str | None = None
    source: str | None = None
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


class Landed(Protocol):
    """Where one saved event landed."""

    # Read-only properties, so that frozen records satisfy the port.
    @property
    def stream_id(self) -> UUID: ...

    @property
    def version(self) -> int: ...

    @property
    def position(self) -> int: ...

    @property
    def transaction_id(self) -> int: ...


class Saved(Protocol):
    """The outcome of saving: each event's place, and whether it was a replay of a retry."""

    @property
    def events(self) -> Sequence[Landed]: ...

    @property
    def replayed(self) -> bool: ...


class Repository(Protocol):
    """Aggregates loaded from and saved to their event streams."""

    def unit_of_work(self) -> AbstractContextManager[None]:
        """Record what a command reads, so that its save can check none of it moved."""
        ...

    async def get(
        self, cls: type[A], aggregate_id: UUID, version: int | None = None, *, fresh: bool = False
    ) -> A:
        """A private copy of the aggregate, for the caller to change and save; NotFound if none."""
        ...

    async def read(self, cls: type[A], aggregate_id: UUID, *, fresh: bool = False) -> A:
        """The aggregate's shared state, to read and never change; NotFound if none."""
        ...

    async def save(
        self,
        *aggregates: Aggregate,
        context: Context,
        idempotency_key: str | None = None,
        fingerprint: bytes | None = None,
    ) -> Saved: ...

    async def replay(self, idempotency_key: str, fingerprint: bytes) -> Saved | None: ...
