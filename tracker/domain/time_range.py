"""The span of dates and times the tracker accepts: 1900-01-01 to 2200-12-31, as written."""

from __future__ import annotations

from datetime import date, datetime

from tracker.domain.errors import InvalidValue

EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
SPAN = f"from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
# The same bound as a pattern on the text, so a schema states it where a reader checks values.
YEARS_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-"


def within(value: date) -> bool:
    """Whether a date, or a datetime's date as written at its own offset, lies in the span."""
    # datetime is a date: .date() is the date as written, before any offset is applied, so
    # the bound reads the same to every client. Offsets are under a day, so every accepted
    # time is also a representable instant in UTC (years 1 to 9999 are all Python holds).
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def require_within(field: str, value: date | None) -> None:
    """Refuse a date or time outside the span, naming the field."""
    if value is not None and not within(value):
        raise InvalidValue(field, f"must be {SPAN}")
