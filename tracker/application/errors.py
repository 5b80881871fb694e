"""Errors the ports raise; the API maps them to HTTP in one place."""

from __future__ import annotations

from uuid import UUID


class NotFound(Exception):
    """No aggregate with this id (or not of the asked-for kind)."""

    def __init__(self, kind: str, aggregate_id: UUID) -> None:
        super().__init__(f"{kind} {aggregate_id} not found")
        self.kind = kind
        self.aggregate_id = aggregate_id


class ConcurrencyError(Exception):
    """A stream is not at the version the writer expected; nothing was written."""

    def __init__(self, stream_id: UUID, expected: int, current: int) -> None:
        super().__init__(f"stream {stream_id} is at version {current}, not {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.current = current


class IdempotencyKeyReused(Exception):
    """An idempotency key came back with a different request body."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key
