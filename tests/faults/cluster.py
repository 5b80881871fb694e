"""A PostgreSQL cluster of a test's own, from the embedded wheel's binaries: the test starts,
restarts, stops and removes it, and no other server is touched."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tracker.embedded import pgserver

# As root the server runs as the unprivileged user the embedded database also uses.
SYSTEM_USER = "pgserver"


class Cluster:
    """initdb into a folder of its own; listens only on a Unix socket in that folder."""

    def __init__(self) -> None:
        # Not under pytest's temporary folder: as root the server runs as another user, and
        # pytest makes its folders private.
        self.folder = Path(tempfile.mkdtemp(prefix="tracker-fault-"))
        self.folder.chmod(0o777)
        self.pgdata = self.folder / "pgdata"
        self.user = SYSTEM_USER if os.geteuid() == 0 else None
        if self.user is not None:
            pgserver().utils.ensure_user_exists(self.user)
            pgserver().utils.ensure_prefix_permissions(self.folder)
        self.bin_path = pgserver().utils.POSTGRES_VERSIONS[pgserver().utils.TARGET_POSTGRES_VERSION]
        # --no-sync: a test's cluster need not survive the machine crashing, and syncing its new
        # files can take seconds on a busy disk.
        self.run(
            "initdb",
            "--no-sync",
            "--auth=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
            "-D",
            self.pgdata,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.folder}"

    def own(self, path: Path) -> None:
        """Give a folder to the server's user (a tablespace's location must be its own)."""
        if self.user is not None:
            user = pwd.getpwnam(self.user)
            os.chown(path, user.pw_uid, user.pw_gid)

    def start(self) -> None:
        self.pg_ctl("start", "-l", self.folder / "server.log", "-o", f"-h '' -k {self.folder}")

    def restart(self, mode: str) -> None:
        """pg_ctl restart -m mode: `fast` ends the sessions, `immediate` crashes them."""
        self.pg_ctl("restart", "-m", mode, "-o", f"-h '' -k {self.folder}")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode)

    def halt(self) -> None:
        """Stop the server at once if it runs."""
        if (self.pgdata / "postmaster.pid").exists():
            self.stop("immediate")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)

    def pg_ctl(self, *args: str | Path) -> None:
        self.run("pg_ctl", "-w", "-t", "30", "-D", self.pgdata, *args)

    def run(self, command: str, *args: str | Path) -> None:
        """Run one of the server's programs as its user; its output goes to the folder's log."""
        with (self.folder / "commands.log").open("ab") as out:
            subprocess.run(
                [str(self.bin_path / command), *map(str, args)],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=self.user,
                timeout=60,
                cwd=self.folder,
            )
