"""Log output: readable lines by default, one JSON object a line with TRACKER_LOG_FORMAT=json."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import msgspec

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# The attributes every LogRecord has; anything else on a record came in through `extra`.
STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {k: v for k, v in record.__dict__.items() if k not in STANDARD}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(line, enc_hook=str).decode()


def configure(level: str, form: str) -> None:
    """Send every logger's records to standard error, in the chosen format, at the level."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if form == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    # Replaces what an earlier call installed: the command line configures, then the app does
    # again in each server worker, which may be a fresh process.
    for old in [h for h in root.handlers if getattr(h, "tracker", False)]:
        root.removeHandler(old)
    handler.tracker = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
