"""The tests' clock: the one clock the app, the store and the domain read during a test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# Where every test's clock starts. Fixtures take their dates from the clock (today(), days()),
# so the suite means the same whatever the machine's date; only this line names a date.
START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Clock:
    """A clock that stands still until a test moves it; the app reads it via create_app(now=...).

    Things done without moving it happen at the same moment, so a test that needs them apart
    in time moves it between them.
    """

    def __init__(self, moment: datetime = START) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def today(self) -> date:
        """The clock's date in UTC."""
        return self.moment.date()

    def days(self, n: int) -> date:
        """The date n days from the clock's (before it, for a negative n)."""
        return self.today() + timedelta(days=n)

    def advance(self, **delta: float) -> None:
        """Move the clock forward (or back, with negative amounts)."""
        self.moment += timedelta(**delta)
