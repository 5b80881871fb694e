"""What the views share in reading commitment rows: the open statuses, and today's dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from projections.commitment_fold import OPEN
from projections.queries.sql import DEFAULT_TIMEZONE

__all__ = ["OPEN", "OPEN_SQL", "Todays"]

OPEN_SQL = ", ".join(f"'{status}'" for status in OPEN)


class Todays:
    """Today's date in each time zone at one moment, each zone worked out once."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self.dates: dict[str, date] = {}

    def of(self, timezone: str | None) -> date:
        """The local date in a forum's zone (the default zone when the forum is unknown)."""
        zone = timezone or DEFAULT_TIMEZONE
        if (today := self.dates.get(zone)) is None:
            today = self.dates[zone] = self.moment.astimezone(ZoneInfo(zone)).date()
        return today
