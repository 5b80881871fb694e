"""What a subscription carries, from the access table both ways: each caller's subscription
receives forum A's events exactly when the table lets them read forum A's streams."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from tests.access.cells import fresh_world
from tests.access.world import Client, World
from tests.api.seed import SEEDER
from tests.clock import Clock
from tests.feed.receivers import Receiver
from tracker.application.access import ALLOWED, COLUMNS, ROWS
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Commitment
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.feed.deliverer import Deliverer
from tracker.feed.outbound import Client as Outbound

# Those who read the streams of forum B, which no column belongs to but its own leader.
SEE_B = {"admin", "auditor", "integration", "limited_other", "other_forum"}


def commitment(w: World, forum: str, owner: str, by: str) -> Commitment:
    return Commitment.make(
        uuid.uuid4(),
        forum_id=w.forums[forum].id,
        owner_id=w.leaders[owner].id,
        by=w.leaders[by].id,
        description=f"Something in forum {forum}",
        purpose_ids=[w.purposes["a"].id] if forum == "a" else [],
        made_on=w.clock.today(),
        due_on=w.clock.today() + timedelta(days=7),
    )


async def test_each_subscription_carries_exactly_the_streams_its_creator_may_read(
    session_client: Client, session_pool: asyncpg.Pool, clock: Clock
) -> None:
    w = await fresh_world(session_client, session_pool, clock, clean=True)
    receiver = await Receiver().start()
    try:
        made = {}
        for column in COLUMNS:
            r = await session_client.post(
                "/subscriptions",
                json={"target_url": f"{receiver.url}/{column}", "types": ["commitment.made"]},
                headers=w.h[column],
            )
            expected = ROWS["createSubscription"][column]
            assert (r.status_code == 201) == (expected == ALLOWED), (column, r.text)
            if expected != ALLOWED:
                assert r.status_code == expected, (column, r.text)
            else:
                made[column] = r.json()["subscription"]["id"]
        store = EventStore(session_pool, poll_interval=0.01, now=clock)
        repository = Repository(store, EventMapper(EVENT_TYPES, STREAM_TYPES))
        in_b = Commitment.make(
            uuid.uuid4(),
            forum_id=w.forums["b"].id,
            owner_id=w.leaders["other_forum"].id,
            by=w.leaders["b_convenor"].id,
            description="Something in forum B",
            purpose_ids=[uuid.uuid4()],
            made_on=clock.today(),
            due_on=clock.today() + timedelta(days=7),
        )
        await repository.save(commitment(w, "a", "owner", "requester"), in_b, context=SEEDER)
        deliverer = Deliverer(
            session_pool,
            repository,
            Outbound(timeout=2.0, allow_private=True, user_agent="test"),
            source="https://tracker.test/log",
            retry_for=timedelta(hours=24),
            now=clock,
        )
        try:
            await deliverer.run_until_idle()
        finally:
            deliverer.client.close()
        got: dict[str, set[str]] = {c: set() for c in made}
        for m in receiver.delivered():
            got[m.path.rsplit("/", 1)[1]].add(m.event["data"]["payload"]["forum_id"])
        for column in made:
            reads_a = ROWS["listStreamEvents"][column] == ALLOWED
            assert (str(w.forums["a"].id) in got[column]) == reads_a, column
            assert (str(w.forums["b"].id) in got[column]) == (column in SEE_B), column
    finally:
        await receiver.stop()
