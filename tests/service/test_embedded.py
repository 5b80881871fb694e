"""The embedded PostgreSQL under `tracker serve`: restarted when it dies, stopped when its last
user ends (however it ends), kept on request, and shown and stopped by `tracker db`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result

from tests.service.test_serve import free_port
from tracker import embedded
from tracker.cli import tracker as tracker_command

# Every wait below polls its condition until this deadline; none orders work by sleeping.
START_SECONDS = 60.0
RECOVER_SECONDS = 30.0
STOP_SECONDS = 15.0


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data folder for the module's tests, which run one after another: initdb once.

    Not under pytest's temporary folder: as root the server runs as another user, and pytest
    makes its folder private again whenever a session starts.
    """
    path = Path(tempfile.mkdtemp(prefix="tracker-embedded-"))
    yield path
    embedded.stop(embedded.pgdata_of(path))
    shutil.rmtree(path, ignore_errors=True)


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return clean | {"TRACKER_DATA_DIR": str(data_dir), "TRACKER_LOG_LEVEL": "warning"} | extra


def db(data_dir: Path, *args: str) -> Result:
    """`tracker db ...`, in this process: it only reads files and signals processes."""
    env = {"TRACKER_DATA_DIR": str(data_dir), "TRACKER_DATABASE_URL": None}
    return CliRunner().invoke(tracker_command, ["db", *args], env=env, prog_name="tracker")


def tracker(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        env=environment(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


class Served:
    """A `tracker serve` of the test's own, on its own port."""

    def __init__(self, data_dir: Path, **extra: str) -> None:
        self.port = free_port()
        self.log = (data_dir / f"serve-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "serve"],
            env=environment(data_dir, TRACKER_PORT=str(self.port), **extra),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def ready(self) -> tuple[int, Any] | None:
        """GET /health/ready: its status and body, or None when nothing answers."""
        url = f"http://127.0.0.1:{self.port}/health/ready"
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, msgspec.json.decode(r.read())
        except urllib.error.HTTPError as error:
            return error.code, msgspec.json.decode(error.read())
        except OSError:
            return None

    def wait_ready(self, seconds: float) -> float:
        """Poll readiness until 200; fail at once if serve has ended."""

        def ready() -> bool:
            assert self.process.poll() is None, "serve ended"
            return (self.ready() or (0,))[0] == 200

        return wait_until(ready, seconds, "readiness 200")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(STOP_SECONDS)
        self.log.close()


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll condition until it holds; fail after seconds. Returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"no {what} within {seconds} s")
        time.sleep(0.1)
    return time.monotonic() - started


def postmaster(data_dir: Path) -> int:
    """The running embedded server's pid."""
    state = embedded.status(data_dir)
    assert state.running and state.pid is not None
    return state.pid


def children(pid: int) -> list[int]:
    """The processes whose parent is pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_sigterm_stops_the_database_and_a_killed_database_is_restarted(data_dir: Path) -> None:
    served = Served(data_dir)
    try:
        served.wait_ready(START_SECONDS)
        first = postmaster(data_dir)
        shown = db(data_dir, "status").output
        assert "state:   running" in shown and f"pid:     {first}" in shown
        assert f"socket:  {embedded.pgdata_of(data_dir)}" in shown
        assert f"  {served.process.pid}  " in shown and "tracker serve" in shown

        os.kill(first, signal.SIGKILL)
        wait_until(
            lambda: embedded.status(data_dir).pid not in (None, first), RECOVER_SECONDS, "restart"
        )
        served.wait_ready(RECOVER_SECONDS)
        second = postmaster(data_dir)

        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(STOP_SECONDS) == 0
        wait_until(lambda: not embedded.alive(second), STOP_SECONDS, "stopped database")
        shown = db(data_dir, "status").output
        assert "state:   stopped" in shown and "users:   0" in shown
    finally:
        served.end()


def test_kill_9_of_serve_stops_its_workers_and_the_database(data_dir: Path) -> None:
    served = Served(data_dir)
    try:
        served.wait_ready(START_SECONDS)
        server = postmaster(data_dir)
        workers = [
            pid for pid in children(served.process.pid) if pid != embedded.status(data_dir).keeper
        ]
        assert workers, "serve runs its workers as child processes"

        served.process.kill()
        wait_until(lambda: not embedded.alive(server), STOP_SECONDS, "stopped database")
        wait_until(
            lambda: not any(embedded.alive(w) for w in workers), STOP_SECONDS, "ended workers"
        )
    finally:
        served.end()


def test_keep_leaves_the_database_running_until_db_stop(data_dir: Path) -> None:
    # Without the setting, a command's database ends with it.
    assert tracker(data_dir, "migrate").returncode == 0
    wait_until(lambda: not embedded.status(data_dir).running, STOP_SECONDS, "stopped database")

    assert tracker(data_dir, "migrate", TRACKER_EMBEDDED_KEEP="1").returncode == 0
    kept = embedded.status(data_dir)
    assert kept.running and kept.keep and kept.users == []

    served = Served(data_dir, TRACKER_EMBEDDED_KEEP="1")
    try:
        served.wait_ready(START_SECONDS)
        refused = db(data_dir, "stop")
        assert refused.exit_code == 1
        assert str(served.process.pid) in refused.output and "--force" in refused.output

        stopped = db(data_dir, "stop", "--force")
        assert stopped.exit_code == 0 and "stopped the embedded database" in stopped.output
        assert not embedded.status(data_dir).running
        # Stopped by the operator, it stays down: readiness names the database.
        answer = served.ready()
        assert answer is not None and answer[0] == 503
        assert answer[1]["failed"][0] == "database"
        assert db(data_dir, "stop", "--force").output.endswith("was not running\n")
    finally:
        served.end()
