"""The process's own counts, bumped where things happen; /metrics exposes them (readings.py).

Plain integers rather than prometheus_client objects: the event store and the projection runner
bump them, and the processes that import those (the command line, a replay's child process)
need not load a metrics library to start, nor take its lock on every append.
"""

from __future__ import annotations

from bisect import bisect_left

# Upper bounds of the group-commit histogram's buckets; a batch holds at most 500 appends.
BATCH_BOUNDS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 500)


class Counts:
    """Appends, events, group-commit batches and runner restarts since the process started."""

    def __init__(self) -> None:
        self.appends = 0
        self.events = 0
        self.runner_retries = 0
        self.webhooks_delivered = 0
        self.webhooks_failed = 0
        self.batches = 0
        self.batched = 0
        # Batches per bucket (not cumulative), the last for anything above the largest bound.
        self.batch_buckets = [0] * (len(BATCH_BOUNDS) + 1)


COUNTS = Counts()


def appended(events: int) -> None:
    """Count one committed append of this many events."""
    COUNTS.appends += 1
    COUNTS.events += events


def batch_written(size: int) -> None:
    """Count one group-commit statement of this many single-event appends."""
    COUNTS.batches += 1
    COUNTS.batched += size
    COUNTS.batch_buckets[bisect_left(BATCH_BOUNDS, size)] += 1


def runner_retried() -> None:
    """Count one retry of the projection runner after a database error."""
    COUNTS.runner_retries += 1


def webhook_attempted(delivered: int, failed: int) -> None:
    """Count webhook delivery attempts: those answered 2xx, and those that failed."""
    COUNTS.webhooks_delivered += delivered
    COUNTS.webhooks_failed += failed
