"""The process's own counters, bumped where things happen (the readings at scrape time are
in readings.py)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Only prometheus_client here: the event store and the projection runner import this module,
# and the layers' contracts forbid them anything above.

APPENDS = Counter("tracker_appends", "Appends committed to the event store (each atomic).")
EVENTS_APPENDED = Counter("tracker_events_appended", "Events committed to the event store.")
BATCH_SIZE = Histogram(
    "tracker_group_commit_batch_size",
    "Single-event appends written together by one group-commit statement.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 500),
)
RUNNER_RETRIES = Counter(
    "tracker_projection_runner_retries",
    "Times the projection runner lost the database and started over after a pause.",
)


def appended(events: int) -> None:
    """Count one committed append of this many events."""
    APPENDS.inc()
    EVENTS_APPENDED.inc(events)
