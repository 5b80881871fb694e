"""One append as the INSERT's column arrays, each event hashed onto its stream's chain."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from tracker.eventstore.chain import (
    canonical_bytes,
    chain_hash,
    context_fields,
    encode_payload,
    utc,
)
from tracker.eventstore.envelope import Context, StreamAppend

# The per-event columns of INSERT, before the idempotency key, the digest and the context.
EVENT_COLUMNS = 8


class Rows:
    """Column arrays for INSERT, with each event's version and chain hash worked out here."""

    def __init__(
        self,
        appends: Sequence[StreamAppend],
        previous: list[bytes],
        context: Context,
        idempotency_key: str | None,
        fingerprint: bytes | None,
        now: datetime,
    ) -> None:
        c = context
        who = context_fields(c.actor, c.on_behalf_of, c.source, c.correlation_id, c.causation_id)
        rows: list[tuple[Any, ...]] = []
        self._heads: list[tuple[UUID, int, bytes]] = []
        for a, hash_ in zip(appends, previous, strict=True):
            if not a.events:
                raise ValueError(f"no events to append to stream {a.stream_id}")
            hash_ = _chain(a, hash_, who, now, rows)
            self._heads.append((a.stream_id, a.expected_version + len(a.events), hash_))
        columns = [list(column) for column in zip(*rows, strict=True)]
        # Only the first event carries the idempotency key and the request's digest.
        later: list[Any] = [None] * (len(rows) - 1)
        self.arguments: list[Any] = [
            *(columns or [[] for _ in range(EVENT_COLUMNS)]),
            [idempotency_key, *later],
            [fingerprint, *later],
            c.actor,
            c.on_behalf_of,
            c.source,
            c.correlation_id,
            c.causation_id,
        ]

    def single(self) -> list[Any] | None:
        """The one event's column values, when there is exactly one."""
        if len(self.arguments[0]) != 1:
            return None
        return [column[0] for column in self.arguments[:10]] + self.arguments[10:]

    def heads(self) -> list[tuple[UUID, int, bytes]]:
        """Each stream's new version and the hash of its last event."""
        return self._heads


def _chain(
    a: StreamAppend, hash_: bytes, who: Any, now: datetime, rows: list[tuple[Any, ...]]
) -> bytes:
    """Add one stream's events to rows, each hashed onto the one before; return the last hash."""
    sid = str(a.stream_id)
    for version, event in enumerate(a.events, start=a.expected_version + 1):
        payload_json = encode_payload(event.payload)
        at = now if event.occurred_at is None else utc(event.occurred_at)
        canonical = canonical_bytes(
            sid, a.stream_type, version, event.type, event.type_version, at, who, payload_json
        )
        hash_ = chain_hash(hash_, canonical)
        rows.append(
            (a.stream_id, a.stream_type, version, event.type, event.type_version,
             payload_json.decode(), at, hash_)
        )  # fmt: skip
    return hash_


def fingerprint(appends: Sequence[StreamAppend]) -> bytes:
    """Identify a request by what it asks for, not by when it was sent."""
    body = [
        (
            str(a.stream_id),
            a.stream_type,
            a.expected_version,
            [(e.type, e.payload) for e in a.events],
        )
        for a in appends
    ]
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).digest()
