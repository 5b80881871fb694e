"""Warn, while the runner waits, about a transaction that holds the log back."""

from __future__ import annotations

import logging
import time

import asyncpg

from tracker.eventstore.horizon import HeldBackBy, held_back_by

log = logging.getLogger(__name__)


def warn(blocker: HeldBackBy) -> None:
    """The warning an operator acts on: which session to end."""
    log.warning(
        "the log is held back by an open transaction: pid %d, application_name %r, database "
        "%r, state %r, open %.1f s (pg_terminate_backend(%d) ends it)",
        blocker.pid,
        blocker.application_name,
        blocker.database,
        blocker.state,
        blocker.transaction_age_seconds,
        blocker.pid,
    )


class HorizonWatch:
    """Looks, at most once a second while the runner waits, for a transaction holding the log
    back, and warns once per such transaction."""

    def __init__(self, threshold: float, every: float = 1.0) -> None:
        self.threshold, self.every = threshold, every
        self._next = 0.0
        self._warned: tuple[int, str] | None = None

    async def check(self, pool: asyncpg.Pool) -> HeldBackBy | None:
        """The blocker, if any (looked up only when due); warns the first time it is seen."""
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.every
        blocker = await held_back_by(pool, self.threshold)
        seen = None if blocker is None else (blocker.pid, blocker.transaction_id)
        if blocker is not None and seen != self._warned:
            warn(blocker)
        self._warned = seen
        return blocker
