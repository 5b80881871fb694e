"""Small builders for event store tests."""

from __future__ import annotations

import uuid
from typing import Any

from tracker.eventstore import Context, NewEvent, StreamAppend

CTX = Context(actor="leader:tester")


def events(*types: str, **payload: Any) -> list[NewEvent]:
    """New events of the given types, each with the same payload."""
    return [NewEvent(type=t, payload=dict(payload)) for t in types]


def to_stream(stream_id: uuid.UUID | None = None, expected: int = 0, n: int = 1) -> StreamAppend:
    """An append of n numbered events to a stream at an expected version."""
    return StreamAppend(
        stream_id=stream_id or uuid.uuid4(),
        stream_type="thing",
        expected_version=expected,
        events=[
            NewEvent(type="thing.happened", payload={"n": expected + i}) for i in range(1, n + 1)
        ],
    )
