"""The keeper of an embedded PostgreSQL: restarts it while it has users, stops it when none is left.

Run as `python -m tracker.embedded_keeper PGDATA` by the first process that starts the server; it
outlives a killed user, so a `kill -9` of `tracker serve` still stops the server.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from tracker import embedded

log = logging.getLogger("tracker.embedded_keeper")

# How often the keeper looks at the users and the server: the bound on noticing either gone.
POLL_SECONDS = 0.25
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


class Keeper:
    """One pass at a time over the users and the server of one data folder."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.backoff = FIRST_BACKOFF
        self.next_attempt = 0.0

    def step(self) -> bool:
        """Look once, under pgserver's lock; False when the keeper's work is done."""
        with embedded.locked():
            if embedded.keeper_pid(self.pgdata) != os.getpid():
                return False  # stopped by an operator, or replaced
            if not self._prune_users():
                if not (self.pgdata / embedded.KEEP_MARKER).exists():
                    log.info("no process uses the server any more: stopping it")
                    embedded.stop_server(self.pgdata)
                (self.pgdata / embedded.KEEPER_PID).unlink(missing_ok=True)
                return False
            self._restart_if_down()
            return True

    def _prune_users(self) -> list[int]:
        """Drop users that ended without saying so (killed); return those still running."""
        listed = embedded.users(self.pgdata)
        pids = listed._get()
        live = [pid for pid in pids if embedded.alive(pid)]
        if live != pids:
            listed.put(live)
        return live

    def _restart_if_down(self) -> None:
        """Start the server again if it died, waiting longer after each failed attempt."""
        info = embedded.postmaster(self.pgdata)
        if info is not None and embedded.alive(info.pid):
            self.backoff = FIRST_BACKOFF
            return
        if time.monotonic() < self.next_attempt:
            return
        log.warning("the embedded server is down: starting it again")
        try:
            embedded.clear_stale_pid(self.pgdata)
            server = embedded.pgserver().postgres_server.PostgresServer(
                self.pgdata, cleanup_mode=None
            )
            server.ensure_postgres_running()
            log.info("the embedded server runs again, pid %s", server.get_pid())
            self.backoff = FIRST_BACKOFF
        except Exception:  # any failure to start is retried; the log says why
            log.exception("starting the embedded server failed; next try in %.1f s", self.backoff)
            self.next_attempt = time.monotonic() + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)


def _leave(signum: int, frame: FrameType | None) -> None:
    """Asked to stop (by `tracker db stop`): leave the server to whoever asked."""
    sys.exit(0)


def main(pgdata: Path) -> None:
    """Keep watch until the server has no users, or until told to stop."""
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s keeper: %(message)s")
    embedded.pgserver()  # quiet its logger before the first restart
    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keeper = Keeper(pgdata)
    log.info("watching %s", pgdata)
    while keeper.step():
        time.sleep(POLL_SECONDS)
    log.info("done")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
