"""Today's date where a forum meets: the only clock the use cases read."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.domain.clock import Now, system_now

__all__ = ["Now", "system_now", "today_in"]


def today_in(now: Now, timezone: str) -> date:
    """The local date in a time zone (falling back to UTC for an unknown zone)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    moment = now()
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        # At the ends of datetime's range (a meeting stored before times were bounded) the
        # moment cannot move zone; its own date is the nearest answer.
        return moment.date()
