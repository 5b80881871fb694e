"""What the deliverer records of its attempts: an attempt for the delivery log, and a place in
the retry queue."""

from __future__ import annotations

from datetime import datetime

import msgspec

from tracker.eventstore import RecordedEvent
from tracker.feed import payload, store
from tracker.feed.outbound import Outcome
from tracker.feed.store import Attempt, Queued, Subscription


def down(subscription: Subscription) -> bool:
    """Whether the target has answered nothing since it began failing (not one stream's
    failures while others go through, which keep their own backoff)."""
    since, success = subscription.failing_since, subscription.last_success_at
    return since is not None and (success is None or success < since)


def waiting(event: RecordedEvent, now: datetime) -> Queued:
    """An event queued behind its stream's failed delivery."""
    return Queued(
        position=event.position,
        transaction_id=event.transaction_id,
        stream_id=event.stream_id,
        attempts=0,
        first_failed_at=None,
        next_attempt_at=now,
        last_status=None,
        last_error=None,
        dead_at=None,
    )


def attempt_of(
    event: RecordedEvent, number: int, at: datetime, outcome: Outcome, next_at: datetime | None
) -> Attempt:
    return Attempt(
        webhook_id=payload.webhook_id(event),
        position=event.position,
        attempt=number,
        attempted_at=at,
        status_code=outcome.status,
        duration_ms=round(outcome.seconds * 1000, 3),
        error=outcome.error,
        next_attempt_at=next_at,
    )


def first_failure(
    event: RecordedEvent, outcome: Outcome, now: datetime, jitter: float
) -> tuple[Queued, Attempt]:
    """A delivery that failed its first attempt: its place in the queue, and the attempt."""
    next_at = now + store.retry_delay(0, jitter)
    queued = msgspec.structs.replace(
        waiting(event, now),
        attempts=1,
        first_failed_at=now,
        next_attempt_at=next_at,
        last_status=outcome.status,
        last_error=outcome.error,
    )
    return queued, attempt_of(event, 1, now, outcome, next_at)
