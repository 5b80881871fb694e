"""Today's date where a forum meets: the only clock the use cases read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Now = Callable[[], datetime]


def system_now() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def today_in(now: Now, timezone: str) -> date:
    """The local date in a time zone (falling back to UTC for an unknown zone)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now().astimezone(zone).date()
