"""Telling the embedded database from an external one, also in a server's workers."""

from __future__ import annotations

from pathlib import Path

from tracker.observability.embedded import embedded_data
from tracker.settings import Settings


def test_no_url_means_the_embedded_database(tmp_path: Path) -> None:
    assert embedded_data(Settings(data_dir=tmp_path)) == (tmp_path / "pgdata").resolve()


def test_the_url_serve_hands_its_workers_still_counts_as_embedded(tmp_path: Path) -> None:
    url = f"postgresql://postgres:@/postgres?host={(tmp_path / 'pgdata').resolve()}"
    assert embedded_data(Settings(data_dir=tmp_path, database_url=url)) is not None


def test_any_other_url_is_an_external_database(tmp_path: Path) -> None:
    url = "postgresql://tracker@db.internal/tracker"
    assert embedded_data(Settings(data_dir=tmp_path, database_url=url)) is None
