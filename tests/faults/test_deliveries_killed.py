"""`tracker deliveries run` killed with SIGKILL mid-batch: the next deliverer sends the batch
again, with the same webhook-ids, and nothing is lost or out of order per stream."""

from __future__ import annotations

import os
import signal
import uuid
from collections import defaultdict
from pathlib import Path

import asyncpg

from tests.api.seed import seed_world
from tests.clock import Clock
from tests.faults.workers import Worker, poll
from tests.feed.receivers import HANG, OK, Message, Receiver
from tests.feed.streams import commitments
from tracker import tokens
from tracker.application.principal import ADMIN, Principal
from tracker.application.subscriptions import Filter
from tracker.domain import EVENT_TYPES, STREAM_TYPES
from tracker.eventstore import Checkpoint, EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.feed import store
from tracker.feed.signing import new_secret

STREAMS, STEPS = 30, 2  # 30 streams of made, accepted and two progress reports


async def test_a_deliverer_killed_mid_batch_loses_nothing(
    fault_pool: asyncpg.Pool, fault_url: str, tmp_path: Path, workers: list[Worker], clock: Clock
) -> None:
    released = [False]

    def decide(message: Message) -> str:
        # Ten answers, then hang until the deliverer is gone: it dies with a batch half sent.
        return OK if released[0] or len(receiver.messages) <= 10 else HANG

    receiver = await Receiver(decide=decide).start()
    try:
        await tokens.issue(fault_pool, "admin", "admin", None)
        token_id = await fault_pool.fetchval("SELECT id FROM api_tokens")
        admin = Principal(kind=ADMIN, token_id=token_id, name="admin")
        await store.create(
            fault_pool,
            uuid.uuid4(),
            "token:x",
            admin,
            receiver.url,
            Filter(
                types=("commitment.made", "commitment.accepted", "commitment.progress_reported")
            ),
            "",
            new_secret(),
            Checkpoint(),
            clock(),
        )
        repository = Repository(
            EventStore(fault_pool, poll_interval=0.01, now=clock),
            EventMapper(EVENT_TYPES, STREAM_TYPES),
        )
        world = await seed_world(repository)
        await commitments(world, clock, STREAMS, progress=STEPS)
        total = STREAMS * (2 + STEPS)
        settings = {"webhook_allow_private": "on", "lease_seconds": "1", "log_level": "warning"}
        first = Worker(fault_url, tmp_path, "first", ("deliveries", "run"), **settings)
        workers.append(first)

        async def eleven() -> bool:
            return len(receiver.messages) > 10

        await poll(eleven, 30, first.output())
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait()
        released[0] = True
        workers.append(Worker(fault_url, tmp_path, "second", ("deliveries", "run"), **settings))

        # Until every event has arrived at least once: how many the first run sent before it
        # died, and so how many come twice, depends on when the kill lands.
        async def all_seen() -> bool:
            return len({m.headers["webhook-id"] for m in receiver.delivered()}) >= total

        await poll(all_seen, 30, workers[-1].output())
        delivered = receiver.delivered()
        ids = [m.headers["webhook-id"] for m in delivered]
        assert len(set(ids)) == total, "every event, some twice"
        versions: dict[str, list[int]] = defaultdict(list)
        for m in delivered[10:]:
            versions[m.event["subject"]].append(m.event["data"]["version"])
        assert all(v == sorted(v) for v in versions.values()), "the second run is in order"
    finally:
        await receiver.stop()
