"""A full disk under load: writes are refused 503 and nothing acknowledged is lost; readiness
names the failing check while liveness holds; the views retry rather than fail; and once space
is freed the service recovers with no operator.

The database lives in a tablespace on a small tmpfs of the test's own, and a filler file takes
the rest of it, so relations cannot grow: PostgreSQL's own "could not extend file ... No space
left on device" (SQLSTATE 53100). The write-ahead log stays on the cluster's disk, as a
separate WAL volume would.
"""

from __future__ import annotations

import asyncio
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from projections.commitment_view import CommitmentViews
from tests.faults.acknowledged import answered_statuses, each_once, replays_agree, views_hold_all
from tests.faults.cluster import Cluster
from tests.faults.service import Client, Load, Service, seed
from tests.faults.workers import poll
from tracker.database import create_pool

CLIENTS = 4
VOLUME_MB = 48
AFTER = 30
SECONDS = 30.0
VIEWS = CommitmentViews.name


class Volume:
    """A tmpfs of its own, and a filler file that takes what is left of it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", f"size={VOLUME_MB}M", "tmpfs", str(path)]
        done = subprocess.run(mount, capture_output=True, text=True)
        assert done.returncode == 0, f"this test mounts a tmpfs, as root: {done.stderr}"
        self.filler = path / "filler"

    def fill(self) -> None:
        """Write until the file system refuses a single page more."""
        with self.filler.open("wb", buffering=0) as out:
            for size in (2**20, 2**13):
                chunk = bytes(size)
                try:
                    while True:
                        out.write(chunk)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error

    def free(self) -> None:
        self.filler.unlink()

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", self.path], check=True)


@pytest.fixture
def volume(cluster: Cluster) -> Iterator[Volume]:
    volume = Volume(cluster.folder / "small")
    cluster.own(volume.path)
    try:
        yield volume
    finally:
        cluster.halt()  # before its tablespace goes
        volume.unmount()


async def small_database(cluster: Cluster, volume: Volume) -> str:
    """A database whose every relation lives on the small volume; its URL."""
    conn = await asyncpg.connect(cluster.url())
    try:
        await conn.execute(f"CREATE TABLESPACE small LOCATION '{volume.path}'")
        await conn.execute("CREATE DATABASE tracker TABLESPACE small")
    finally:
        await conn.close()
    return cluster.url("tracker")


@pytest.mark.timeout(120)
async def test_a_full_disk_refuses_writes_and_recovers_when_space_is_freed(
    cluster: Cluster, volume: Volume, tmp_path: Path
) -> None:
    url = await small_database(cluster, volume)
    pool = await create_pool(url, size=2)
    service: Service | None = None
    try:
        users = await seed(pool, CLIENTS)
        token = users[0][0]
        # Readiness fails for a while after the last refused write; shortened here.
        service = Service(url, tmp_path, ready_refused_write_seconds="2")
        await service.wait_ready(60)
        load = Load([Client(service.http, t, body) for t, body in users])
        await load.more(AFTER, SECONDS, service)

        # An open transaction holds the views back a moment, so that they too have rows to
        # write when the disk fills, as they would under a heavier load.
        blocker = await asyncpg.connect(url)
        holding = blocker.transaction()
        await holding.start()
        await blocker.fetchval("SELECT txid_current()")
        await load.more(AFTER, SECONDS, service)
        await asyncio.to_thread(volume.fill)

        refused = load.statuses()[503]

        async def refusing() -> bool:
            load.healthy()
            answer = await service.health("ready")  # type: ignore[union-attr]
            return answer is not None and answer[0] == 503 and load.statuses()[503] > refused

        await poll(refusing, SECONDS, f"writes never refused:\n{service.output()[-3000:]}")
        ready = await service.health("ready")
        assert ready is not None and ready[1]["failed"] == ["writable"], ready
        assert "SQLSTATE 53100" in ready[1]["checks"]["writable"]["reason"]
        assert await service.health("live") == (200, {"status": "ok"})
        said = {d for c in load.clients for d in c.details}
        assert any("its disk is full (SQLSTATE 53100)" in d for d in said), said

        await holding.rollback()
        await blocker.close()
        states: set[str] = set()

        async def retrying() -> bool:
            shown = await projection(service, token)  # type: ignore[arg-type]
            states.add(shown["state"])
            return bool(shown["state"] == "retrying")

        await poll(retrying, SECONDS, f"views never retrying:\n{service.output()[-3000:]}")
        assert "failed" not in states
        shown = await projection(service, token)
        assert "No space left on device" in (shown.get("retrying_error") or ""), shown

        volume.free()
        await service.wait_ready(SECONDS)
        await load.more(AFTER, SECONDS, service)
        await load.finish()

        answered_statuses(load)
        await each_once(pool, load)
        await replays_agree(load)
        await views_hold_all(pool, load, service, token)
    finally:
        if service is not None:
            await service.end()
        await pool.close()


async def projection(service: Service, token: str) -> dict[str, object]:
    """The live commitment views' status, as GET /projections shows it."""
    answer = await service.http.get("/projections", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return next(p for p in answer.json() if p["name"] == VIEWS and p["live"])
