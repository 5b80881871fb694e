"""Whether the database is the embedded one, and where its data lives."""

from __future__ import annotations

from pathlib import Path

from tracker.settings import Settings


def embedded_data(settings: Settings) -> Path | None:
    """The embedded server's data folder, or None for an external database."""
    pgdata = (settings.data_dir / "pgdata").resolve()
    # `tracker serve` hands its workers the embedded server's URL, whose socket is in pgdata.
    if settings.database_url and f"host={pgdata}" not in settings.database_url:
        return None
    return pgdata
