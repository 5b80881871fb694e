"""What the processes under measurement spend: CPU time from /proc, and the WAL the database
server writes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from bench.common import fetch_value


def _processes() -> Iterator[tuple[int, str, int, int]]:
    """Every process: pid, name, parent and CPU ticks (user and system) so far, its own and its
    exited children's (a database backend that exits mid-run still counts, with the server)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().partition(" (")[2].rpartition(")")
        except OSError:
            continue  # it exited meanwhile
        fields = rest.split()
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        yield int(stat.parent.name), name, int(fields[1]), ticks


async def wal_bytes(server: str) -> int:
    """WAL the database server has written since its statistics were last reset."""
    return int(await fetch_value(server, "SELECT wal_bytes FROM pg_stat_wal"))


def database_cpu_seconds(database: str | None = None) -> float:
    """CPU time used so far by the PostgreSQL server's processes (on this machine): backends,
    WAL writer and the rest, since commits cost there too; or only one database's backends,
    which other work on the machine (other clusters, other databases) leaves out."""
    ticks = sum(
        t
        for pid, name, _, t in _processes()
        if name == "postgres" and (database is None or _serves(pid, database))
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def _serves(pid: int, database: str) -> bool:
    """Whether a backend is connected to the database: its title is "postgres: user db host",
    or "postgres: cluster: user db host" where the server has a cluster_name."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split()
    except OSError:
        return False
    return title[:1] == ["postgres:"] and database in title[2:4]


def cpu_seconds(roots: list[int]) -> float:
    """CPU time (user and system) used so far by some processes and all their descendants."""
    parents, ticks = {}, {}
    for pid, _, parent, used in _processes():
        parents[pid], ticks[pid] = parent, used
    tree, grew = set(roots), True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")
