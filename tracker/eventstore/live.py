"""Live updates: wake readers promptly when new events may exist.

Appends in this process wake readers at once; appends from other processes are found by a
short poll. NOTIFY is not used: it takes a cluster-wide lock at commit and costs about a fifth
of append throughput (bench/append.py), while a 50 ms poll costs one index probe per reader.
"""

from __future__ import annotations

import asyncio
import contextlib


class LogWatcher:
    """An in-process signal that the log has grown."""

    def __init__(self) -> None:
        self._grown = asyncio.Event()

    def log_grew(self) -> None:
        """Wake every reader that is waiting now."""
        grown, self._grown = self._grown, asyncio.Event()
        grown.set()

    async def wait(self, seconds: float) -> bool:
        """Wait until the log grows in this process (True), or for seconds (False)."""
        # asyncio.timeout, not wait_for: wait_for can swallow a cancellation that races the wake-up.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._grown.wait()
                return True
        return False
