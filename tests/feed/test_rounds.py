"""A round's batches commit together: every cursor, parked delivery and attempt at once."""

from __future__ import annotations

import uuid

import asyncpg

from tests.clock import Clock
from tracker.application.principal import ADMIN, Principal
from tracker.application.subscriptions import Filter
from tracker.eventstore import Checkpoint
from tracker.feed import rounds, store
from tracker.feed.rounds import Settlement
from tracker.feed.signing import new_secret
from tracker.feed.store import Attempt, Queued


async def subscribe(pool: asyncpg.Pool, clock: Clock) -> uuid.UUID:
    made = await store.create(
        pool,
        uuid.uuid4(),
        "token:x",
        Principal(kind=ADMIN, token_id=uuid.uuid4(), name="admin"),
        "http://127.0.0.1:9/hook",
        Filter(),
        "",
        new_secret(),
        Checkpoint(),
        clock(),
    )
    return made.id


def settlement(subscription_id: uuid.UUID, clock: Clock) -> Settlement:
    """Three attempts (two answered, one failed and parked) of a batch up to position 30."""
    now = clock()
    attempts = [
        Attempt(
            webhook_id=f"msg_7_{p}",
            position=p,
            attempt=1,
            attempted_at=now,
            status_code=status,
            duration_ms=1.5,
            error=None,
            next_attempt_at=None if status == 200 else now,
        )
        for p, status in ((10, 200), (20, 200), (30, 503))
    ]
    parked = Queued(
        position=30,
        transaction_id=7,
        stream_id=uuid.uuid4(),
        attempts=1,
        first_failed_at=now,
        next_attempt_at=now,
        last_status=503,
        last_error=None,
        dead_at=None,
    )
    return Settlement(
        subscription_id=subscription_id,
        cursor=Checkpoint(transaction_id=7, position=30),
        parked=[parked],
        attempts=attempts,
        succeeded_at=now,
        failed=True,
        now=now,
    )


async def test_a_round_commits_every_batch_and_drops_a_subscription_deleted_meanwhile(
    pool: asyncpg.Pool, clock: Clock
) -> None:
    kept, gone = await subscribe(pool, clock), await subscribe(pool, clock)
    await store.delete(pool, gone)
    async with pool.acquire() as conn, conn.transaction():
        await rounds.commit(conn, [settlement(gone, clock), settlement(kept, clock)])
    after = await store.one(pool, kept)
    assert after is not None
    assert after.cursor == Checkpoint(transaction_id=7, position=30)
    assert after.last_success_at == clock() and after.failing_since == clock()
    logged, _ = await store.attempts(pool, kept, None, 10)
    assert [(a.position, a.status_code) for a in logged] == [(30, 503), (20, 200), (10, 200)]
    assert [q.position for q in await store.dead_letters(pool, kept, 10)] == []
    assert [q.position for q in await store.due_heads(pool, kept, clock(), 10)] == [30]
    assert await pool.fetchval("SELECT count(*) FROM subscription_attempts") == 3
