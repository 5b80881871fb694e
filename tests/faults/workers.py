"""`tracker projections run` (or `deliveries run`) workers as real processes, and polling with a
deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class Worker:
    """One `tracker projections run` process (or another command), its output kept in a file."""

    def __init__(
        self,
        url: str,
        folder: Path,
        name: str,
        command: tuple[str, ...] = ("projections", "run"),
        **settings: str,
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env |= {
            "TRACKER_DATABASE_URL": url,
            "TRACKER_DATA_DIR": str(folder / "data"),
            "TRACKER_LOG_LEVEL": "info",
        }
        env |= {f"TRACKER_{k.upper()}": v for k, v in settings.items()}
        self.log_file = folder / f"{name}.log"
        with self.log_file.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tracker", *command],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.stopped = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")

    async def said(self, text: str, seconds: float = 30.0) -> None:
        """Wait until the worker has logged text (it must still be running meanwhile)."""

        async def check() -> bool:
            assert self.process.poll() is None, f"worker exited:\n{self.output()}"
            return text in self.output()

        await poll(check, seconds, f"worker never said {text!r}:\n{self.output()}")

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.stopped = True

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)
        self.stopped = False

    def stop(self) -> int:
        """Stop it as an operator would (SIGTERM); its exit status."""
        if self.process.poll() is None:
            if self.stopped:
                self.thaw()
            self.process.terminate()
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


async def poll(
    check: Callable[[], Awaitable[bool]], seconds: float = 10.0, message: str = "timed out"
) -> float:
    """Poll check until it holds; the seconds it took (AssertionError past the deadline)."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, message
        await asyncio.sleep(0.02)
    return time.monotonic() - start
