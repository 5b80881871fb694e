"""Refuse, for a while, a client address that keeps presenting tokens that are not valid."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from tracker.application.clock import Now

# More failures than this within WINDOW from one address are answered 429 instead of 401.
LIMIT = 20
WINDOW = timedelta(seconds=10)
# Addresses remembered at once; past it, those with no failure in the window are forgotten.
MAX_CLIENTS = 10_000


class FailureThrottle:
    """Failed authentications per client address over a sliding window, on the app's clock."""

    def __init__(self, now: Now, limit: int = LIMIT, window: timedelta = WINDOW) -> None:
        self.now = now
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def failed(self, client: str) -> int | None:
        """Record a failure: the seconds to wait if the client failed too often, else None."""
        moment = self.now()
        failures = self._failures.get(client)
        if failures is None:
            if len(self._failures) >= MAX_CLIENTS:
                self._forget_idle(moment)
            failures = self._failures[client] = deque(maxlen=self.limit)
        while failures and failures[0] <= moment - self.window:
            failures.popleft()
        throttled = len(failures) >= self.limit
        # Refused attempts count too, so a client that keeps trying stays refused.
        failures.append(moment)
        if not throttled:
            return None
        # Once the oldest of the last `limit` failures leaves the window, a failure is a 401 again.
        return max(1, math.ceil((failures[0] + self.window - moment).total_seconds()))

    def clear(self) -> None:
        """Forget every failure."""
        self._failures.clear()

    def _forget_idle(self, moment: datetime) -> None:
        idle = [c for c, f in self._failures.items() if not f or f[-1] <= moment - self.window]
        for client in idle:
            del self._failures[client]
        if len(self._failures) >= MAX_CLIENTS:  # a flood from many addresses: start afresh
            self._failures.clear()
