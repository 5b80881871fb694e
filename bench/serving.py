"""The servers the API benchmarks measure: the service or a baseline app under granian or
uvicorn, the projection worker beside it, and an in-memory database."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from tracker.database import start_embedded, stop_embedded

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# The options `tracker serve` gives uvicorn.run (tracker/cli/service.py serve), and granian's.
OPTIONS = {
    "uvicorn": ["--loop", "uvloop", "--http", "httptools", "--no-access-log"],
    "granian": ["--interface", "asgi", "--loop", "uvloop", "--http", "1", "--no-access-log"],
}
FACTORIES = {"service": "tracker.api.app:create_app", "baseline": "bench.baseline_app:create_app"}


@contextmanager
def serving(args: argparse.Namespace, url: str, app: str) -> Iterator[tuple[str, list[int]]]:
    """Run a server until the block ends, then stop it with SIGTERM; yield its URL and the pids
    whose CPU counts (with the projection worker's, when it runs apart)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    env = os.environ | {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_HOST": HOST,
        "TRACKER_PORT": str(port),
        "TRACKER_WORKERS": str(args.workers),
        "TRACKER_LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, "-m", args.server, FACTORIES[app], "--factory", "--host", HOST]
    argv += ["--port", str(port), "--workers", str(args.workers), "--log-level", "warning"]
    argv += OPTIONS[args.server]
    if args.server == "granian" and app == "service":
        argv = [sys.executable, "-m", "tracker", "serve"]  # the production command, set by env
    base = f"http://{HOST}:{port}"
    ready = base + ("/health" if app == "service" else "/hello")
    with tempfile.TemporaryFile() as log, contextlib.ExitStack() as apart:
        pids = []
        if app == "service" and args.projections == "apart":
            env["TRACKER_RUN_PROJECTIONS"] = "off"
            pids.append(apart.enter_context(projection_worker(env)))
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):
                if proc.poll() is not None:
                    log.seek(0)
                    sys.exit(f"the server exited:\n{' '.join(argv)}\n{log.read().decode()}")
                if fetch(ready)[0] == 200:
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"the server did not answer {ready} within a minute")
            yield base, [proc.pid, *pids]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"warning: the {app} server ignored SIGTERM; killed", file=sys.stderr)
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def projection_worker(env: dict[str, str]) -> Iterator[int]:
    """`tracker projections run` until the block ends, once it has built the views; its pid."""
    argv = [sys.executable, "-m", "tracker", "projections", "run"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):
                log.seek(0)
                output = log.read().decode()
                if "running projections" in output:
                    break
                if proc.poll() is not None:
                    sys.exit(f"the projection worker exited:\n{output}")
                time.sleep(0.1)
            else:
                sys.exit("the projection worker did not start within a minute")
            yield proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def fetch(url: str, method: str = "GET", token: str = "", body: object = None) -> tuple[int, str]:
    """One request with the standard library: (status, body); status 0 when unreachable."""
    data = None if body is None else msgspec.json.encode(body)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


@contextmanager
def in_memory(name: str = "tracker-bench") -> Iterator[str]:
    """An embedded PostgreSQL with its data in /dev/shm/<name>, for the block; its URL."""
    folder = Path("/dev/shm")
    if not folder.is_dir():
        sys.exit("--database memory needs /dev/shm (Linux)")
    data = folder / name
    try:
        yield start_embedded(data)
    finally:
        stop_embedded(data / "pgdata")
        shutil.rmtree(data, ignore_errors=True)
