"""Writes the database refused in this process lately: readiness fails while one is recent.

The readiness check's own write can pass while the writes requests make fail: a disk full only
for new data pages still takes an update of the heartbeat row in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg

# Insufficient resources (53: disk full, out of memory), system errors (58: I/O), read-only (25006).
REFUSED_CLASSES = ("53", "58")
READ_ONLY = "25006"
# How long after the last refused write readiness stays failed, unless configured: long enough
# for a load balancer to notice, short enough to try again soon once the cause is fixed.
WINDOW_SECONDS = 30.0


class WriteRefusals:
    """The last write this process saw refused, and when."""

    def __init__(
        self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window, self.clock = window, clock
        self.last: tuple[float, str] | None = None

    def note(self, error: BaseException) -> None:
        """Remember error if it is the database refusing writes rather than a request's fault."""
        state = getattr(error, "sqlstate", None)
        if not isinstance(error, asyncpg.PostgresError) or not isinstance(state, str):
            return
        if state[:2] in REFUSED_CLASSES or state == READ_ONLY:
            self.last = (self.clock(), state)

    def recent(self) -> tuple[float, str] | None:
        """Seconds since the last refused write and its SQLSTATE, if within the window."""
        if self.last is None:
            return None
        age = self.clock() - self.last[0]
        return (age, self.last[1]) if age < self.window else None
