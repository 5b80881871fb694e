"""PostgreSQL restarted under load (fast, immediate, and down a while): every acknowledged
command is in the log once, a retry with its key gets the same answer, the views catch up, and
no request is answered 500.

The cluster is the test's own and serves a Unix socket, as the embedded database does: a clean
shutdown removes the socket file, so clients meet both a missing socket and a refused one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.acknowledged import answered_statuses, each_once, replays_agree, views_hold_all
from tests.faults.cluster import Cluster
from tests.faults.service import Client, Load, Service, seed
from tests.faults.workers import poll
from tracker.database import create_pool

CLIENTS = 4
# Acknowledged commands to wait for after each recovery: the service answers writes again.
AFTER_EACH = 40
SECONDS = 30.0
LOST = "projection runner lost the database"
DOWN_RETRIES = 3


@pytest.mark.timeout(120)
async def test_restarts_under_load_lose_and_repeat_no_acknowledged_command(
    cluster: Cluster, tmp_path: Path
) -> None:
    pool = await create_pool(cluster.url(), size=2)
    service: Service | None = None
    try:
        users = await seed(pool, CLIENTS)
        service = Service(cluster.url(), tmp_path)
        await service.wait_ready(60)
        load = Load([Client(service.http, token, body) for token, body in users])
        await load.more(AFTER_EACH, SECONDS, service)

        for mode in ("fast", "immediate"):
            await asyncio.to_thread(cluster.restart, mode)
            await service.wait_ready(SECONDS)
            await load.more(AFTER_EACH, SECONDS, service)

        # Down a while: clients are refused, and readiness says why, until it is back.
        await asyncio.to_thread(cluster.stop, "fast")
        refused = [c.statuses[503] for c in load.clients]
        lost = service.output().count(LOST)

        async def down() -> bool:
            load.healthy()
            answer = await service.health("ready")  # type: ignore[union-attr]
            return (
                answer is not None
                and answer[0] == 503
                and all(c.statuses[503] > r for c, r in zip(load.clients, refused, strict=True))
                and service.output().count(LOST) >= lost + DOWN_RETRIES  # type: ignore[union-attr]
            )

        # Down a few seconds: until every client has been refused, and the projection runner,
        # which tries again every second, has found the database gone three times.
        await poll(down, SECONDS, "not every client was refused while the database was down")
        ready = await service.health("ready")
        assert ready is not None and ready[1]["failed"][0] == "database"
        assert await service.health("live") == (200, {"status": "ok"})
        await asyncio.to_thread(cluster.start)
        await service.wait_ready(SECONDS)
        await load.more(AFTER_EACH, SECONDS, service)
        await load.finish()

        answered_statuses(load)
        assert load.statuses()[503] > 0, "the restarts refused nothing: were they under load?"
        await pool.expire_connections()
        await each_once(pool, load)
        await replays_agree(load)
        await views_hold_all(pool, load, service, users[0][0])
    finally:
        if service is not None:
            await service.end()
        await pool.close()
