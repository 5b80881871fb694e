"""Run a command: load, act, save, with conditional writes, retries and idempotency."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from tracker.application.clock import Now, system_now
from tracker.application.errors import ConcurrencyError, IdempotencyKeyReused
from tracker.application.ports import Context, Repository, Saved
from tracker.application.principal import LEADER, Principal
from tracker.domain.clock import stamped_by

A = TypeVar("A", bound=Aggregate)

RETRIES = 3


class PreconditionFailed(Exception):
    """If-Match named a version the aggregate is no longer (or not yet) at."""

    def __init__(self, stream_id: UUID, expected: int, current: int) -> None:
        super().__init__(f"{stream_id} is at version {current}, not {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.current = current


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """What a caller sent beside the command: conditions and the retry key."""

    principal: Principal
    if_match: int | None = None
    idempotency_key: str | None = None
    fingerprint: bytes = b""
    source: str | None = None
    correlation_id: UUID | None = None
    # An external reference ("system:id") the caller owns; set through external.creation_id.
    reference: str | None = None

    def context(self) -> Context:
        """The envelope fields every event of this request carries."""
        p = self.principal
        return Context(
            actor=p.actor,
            on_behalf_of=None if p.on_behalf_of is None else f"leader:{p.on_behalf_of}",
            source=self.source,
            correlation_id=self.correlation_id or uuid.uuid4(),
        )

    @property
    def key(self) -> str | None:
        """The stored retry key: the owned external reference, or the key in its sender's scope."""
        # Every client key is scoped, so no key a client sends can name another's reference
        # or another caller's key, whatever it looks like.
        if self.reference is not None:
            return f"external:{self.reference}"
        if self.idempotency_key is None:
            return None
        return f"{key_scope(self.principal)}:{self.idempotency_key}"

    @property
    def shown_key(self) -> str:
        """The key as the caller sent it, for answers: never the scope it is stored under."""
        return self.reference or self.idempotency_key or ""


def key_scope(principal: Principal) -> str:
    """Whose keys these are: a leader's (whichever of their tokens sent it), or one token's."""
    if principal.kind == LEADER and principal.leader_id is not None:
        return f"leader:{principal.leader_id}"
    return str(principal.token_id)


class Commands:
    """The thin service layer every command goes through."""

    def __init__(self, repository: Repository, now: Now = system_now) -> None:
        self.repository = repository
        self.now = now

    async def create(
        self, request: Request, build: Callable[[], Awaitable[Sequence[Aggregate]]]
    ) -> Saved:
        """Build new aggregates (and change others alongside them), then save all atomically."""
        with _as_sent(request):
            return await self._create(request, build)

    async def update(
        self,
        request: Request,
        cls: type[A],
        aggregate_id: UUID,
        act: Callable[[A], Awaitable[None] | None],
    ) -> Saved:
        """Apply act to the latest state; retry on a concurrent write unless If-Match was given."""
        with _as_sent(request):
            return await self._update(request, cls, aggregate_id, act)

    async def _create(
        self, request: Request, build: Callable[[], Awaitable[Sequence[Aggregate]]]
    ) -> Saved:
        """Replay an earlier attempt, or build and save, retrying on a concurrent write."""
        replay = await self._replay(request)
        if replay is not None:
            return replay
        for attempt in range(RETRIES + 1):
            with self.repository.unit_of_work(), stamped_by(self.now):
                aggregates = await build()
                try:
                    return await self.repository.save(
                        *aggregates,
                        context=request.context(),
                        idempotency_key=request.key,
                        fingerprint=request.fingerprint,
                    )
                except ConcurrencyError as conflict:
                    # Version 0 expected: the new resource's id is taken, which no retry mends.
                    if conflict.expected == 0 or attempt == RETRIES:
                        raise
        raise AssertionError("unreachable")

    async def _update(
        self,
        request: Request,
        cls: type[A],
        aggregate_id: UUID,
        act: Callable[[A], Awaitable[None] | None],
    ) -> Saved:
        """Replay an earlier attempt, or act and save, retrying as update() says."""
        replay = await self._replay(request)
        if replay is not None:
            return replay
        for attempt in range(RETRIES + 1):
            with self.repository.unit_of_work(), stamped_by(self.now):
                aggregate = await at_version(self.repository, cls, aggregate_id, request.if_match)
                outcome = act(aggregate)
                if outcome is not None:
                    await outcome
                try:
                    return await self.repository.save(
                        aggregate,
                        context=request.context(),
                        idempotency_key=request.key,
                        fingerprint=request.fingerprint,
                    )
                except ConcurrencyError as conflict:
                    if request.if_match is not None and conflict.stream_id == aggregate_id:
                        raise PreconditionFailed(
                            aggregate_id, request.if_match, conflict.current
                        ) from None
                    if attempt == RETRIES:
                        raise
        raise AssertionError("unreachable")

    async def _replay(self, request: Request) -> Saved | None:
        """The saved outcome of an earlier attempt with the request's retry key, if any."""
        # Checked before acting: a retried command may be illegal in the state it produced.
        if request.key is None:
            return None
        return await self.repository.replay(request.key, request.fingerprint)


@contextmanager
def _as_sent(request: Request) -> Iterator[None]:
    """A refused reuse of a key names the key as the caller sent it."""
    try:
        yield
    except IdempotencyKeyReused:
        raise IdempotencyKeyReused(request.shown_key) from None


async def at_version(
    repository: Repository, cls: type[A], aggregate_id: UUID, if_match: int | None
) -> A:
    """The aggregate to change, at the version If-Match names if given."""
    # Cached state is used as it is unless known to be stale: the save only lands if the stream
    # is still at the version acted on, and a conflict marks it stale for the retry. If-Match
    # is judged against the stream itself, so a conditional command catches up first.
    aggregate = await repository.get(cls, aggregate_id, fresh=if_match is not None)
    if if_match is not None and aggregate.version != if_match:
        raise PreconditionFailed(aggregate_id, if_match, aggregate.version)
    return aggregate
