"""Idempotent appends: the append first made with a key, found again for a retry."""

from __future__ import annotations

from tracker.application.errors import IdempotencyKeyReused
from tracker.eventstore.envelope import Appended, AppendResult
from tracker.eventstore.log import Executor

FIRST_ATTEMPT = """
SELECT request_digest, transaction_id, position FROM events WHERE idempotency_key = $1
"""
# An append is its keyed event and the events after it in its transaction, up to the next keyed
# event: an append of its own has its transaction to itself, and group commit puts keyed
# single-event appends in a transaction only with each other (batch.py).
EVENTS_OF_APPEND = """
SELECT stream_id, version, position, transaction_id FROM events
WHERE transaction_id = $1 AND position >= $2
  AND position < coalesce(
      (SELECT min(position) FROM events
       WHERE transaction_id = $1 AND position > $2 AND idempotency_key IS NOT NULL),
      9223372036854775807)
ORDER BY position
"""


async def first_attempt(db: Executor, key: str, fingerprint: bytes) -> AppendResult | None:
    """The append first made with this key, marked replayed; None if no append used it."""
    # A different request under the same key is refused.
    first = await db.fetchrow(FIRST_ATTEMPT, key)
    if first is None:
        return None
    if first[0] != fingerprint:
        raise IdempotencyKeyReused(key)
    rows = await db.fetch(EVENTS_OF_APPEND, first[1], first[2])
    return AppendResult([Appended(*r) for r in rows], replayed=True)
