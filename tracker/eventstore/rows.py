"""One append as column arrays: each event's version and chain hash worked out before the
INSERT, and the fingerprint that identifies a request by what it asks for."""

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
        who = context_fields(
            context.actor,
            context.on_behalf_of,
            context.source,
            context.correlation_id,
            context.causation_id,
        )
        ids: list[UUID] = []
        stream_types: list[str] = []
        versions: list[int] = []
        types: list[str] = []
        type_versions: list[int] = []
        payloads: list[str] = []
        occurred: list[datetime] = []
        hashes: list[bytes] = []
        self._heads: list[tuple[UUID, int, bytes]] = []
        for a, hash_ in zip(appends, previous, strict=True):
            if not a.events:
                raise ValueError(f"no events to append to stream {a.stream_id}")
            sid = str(a.stream_id)
            for version, event in enumerate(a.events, start=a.expected_version + 1):
                payload_json = encode_payload(event.payload)
                at = now if event.occurred_at is None else utc(event.occurred_at)
                canonical = canonical_bytes(
                    sid,
                    a.stream_type,
                    version,
                    event.type,
                    event.type_version,
                    at,
                    who,
                    payload_json,
                )
                hash_ = chain_hash(hash_, canonical)
                ids.append(a.stream_id)
                stream_types.append(a.stream_type)
                versions.append(version)
                types.append(event.type)
                type_versions.append(event.type_version)
                payloads.append(payload_json.decode())
                occurred.append(at)
                hashes.append(hash_)
            self._heads.append((a.stream_id, versions[-1], hash_))
        # Only the first event carries the idempotency key and the request's digest.
        keys = [idempotency_key] + [None] * (len(ids) - 1)
        digests = [fingerprint] + [None] * (len(ids) - 1)
        self.arguments: list[Any] = [
            ids,
            stream_types,
            versions,
            types,
            type_versions,
            payloads,
            occurred,
            hashes,
            keys,
            digests,
            context.actor,
            context.on_behalf_of,
            context.source,
            context.correlation_id,
            context.causation_id,
        ]

    def single(self) -> list[Any] | None:
        """The one event's column values, when there is exactly one."""
        if len(self.arguments[0]) != 1:
            return None
        return [column[0] for column in self.arguments[:10]] + self.arguments[10:]

    def heads(self) -> list[tuple[UUID, int, bytes]]:
        """Each stream's new version and the hash of its last event."""
        return self._heads


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
