"""The quick start: `tracker serve` with no database URL comes up on an embedded PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import msgspec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_no_url_starts_the_embedded_database_and_answers_health(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {"TRACKER_DATA_DIR": str(tmp_path / "data"), "TRACKER_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "tracker", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    body = msgspec.json.decode(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "the server never answered /health"
        assert body["status"] == "ok"
        assert body["database"]["reachable"] is True
        assert "migrations" not in body  # only for a caller with a token
        assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
        _stop_embedded(tmp_path / "data" / "pgdata")
    assert "embedded PostgreSQL: data in" in output


def _stop_embedded(pgdata: Path) -> None:
    """The embedded server outlives `serve` on purpose; stop this test's copy."""
    from tracker.database import stop_embedded

    stop_embedded(pgdata)
