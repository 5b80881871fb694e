"""A rich progress bar for builds that report (events done, events in all, seconds elapsed)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn


class EventProgress:
    """A bar on standard error, shown from the first report until the block ends."""

    def __init__(self) -> None:
        self.bar = Progress(
            BarColumn(),
            TextColumn(
                "{task.completed:,.0f}/{task.total:,.0f} events  "
                "{task.fields[rate]:,.0f}/s  {task.fields[left]:,.0f}s left"
            ),
            console=Console(stderr=True),
        )
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int, elapsed: float) -> None:
        """Show one report; the rate and time left are taken over the whole build."""
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("events", total=total, rate=rate, left=left)
        self.bar.update(self.task, completed=done, total=total, rate=rate, left=left)

    def __enter__(self) -> EventProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.task is not None:
            self.bar.stop()
