"""Group commit: concurrent single-event appends share a statement, each still all-or-nothing."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.eventstore.helpers import CTX, to_stream, until_blocked_by
from tracker.application.errors import ConcurrencyError, IdempotencyKeyReused
from tracker.database import init_connection
from tracker.eventstore import EventStore, NewEvent, StreamAppend


async def test_concurrent_single_event_appends_share_transactions_and_all_land(
    store: EventStore,
) -> None:
    appends = [to_stream() for _ in range(40)]
    results = await asyncio.gather(*(store.append(a, context=CTX) for a in appends))
    transactions = {r.events[0].transaction_id for r in results}
    assert len(transactions) < len(appends)  # they were written together
    assert len({r.events[0].position for r in results}) == len(appends)
    for append in appends:
        [event] = await store.read_stream(append.stream_id)
        assert event.payload == {"n": 1}
        assert await store.verify_stream(append.stream_id) is None


async def test_one_bad_row_fails_alone_and_the_rest_of_its_batch_lands(store: EventStore) -> None:
    # PostgreSQL's jsonb refuses a NUL character, so the shared statement fails for this row.
    bad = StreamAppend(
        stream_id=uuid.uuid4(),
        stream_type="thing",
        expected_version=0,
        events=[NewEvent(type="thing.happened", payload={"text": "\x00"})],
    )
    good = [to_stream() for _ in range(10)]
    outcomes = await asyncio.gather(
        *(store.append(a, context=CTX) for a in [*good[:5], bad, *good[5:]]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[5], asyncpg.DataError)
    assert not any(isinstance(o, BaseException) for i, o in enumerate(outcomes) if i != 5)
    assert await store.read_stream(bad.stream_id) == []
    for append in good:
        assert len(await store.read_stream(append.stream_id)) == 1


async def test_the_same_request_sent_twice_at_once_writes_once(store: EventStore) -> None:
    stream = to_stream()
    first, second = await asyncio.gather(
        *(store.append(stream, context=CTX, idempotency_key="minutes-7") for _ in range(2))
    )
    assert {first.replayed, second.replayed} == {False, True}
    assert first.events == second.events
    assert len(await store.read_stream(stream.stream_id)) == 1


async def test_one_key_on_two_different_appends_at_once_writes_one(store: EventStore) -> None:
    a, b = to_stream(), to_stream()
    outcomes = await asyncio.gather(
        *(store.append(x, context=CTX, idempotency_key="k-1") for x in (a, b)),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, IdempotencyKeyReused)]
    assert len(refused) == 1
    written = [len(await store.read_stream(x.stream_id)) for x in (a, b)]
    assert sorted(written) == [0, 1]


async def test_a_read_guard_sees_a_write_queued_beside_it(store: EventStore) -> None:
    # B read stream S at version 1 while A appends to S: B must not land as if S were unchanged.
    s = to_stream()
    await store.append(s, context=CTX)
    write_s = store.append(to_stream(s.stream_id, expected=1), context=CTX)
    read_s = store.append(to_stream(), context=CTX, unchanged={s.stream_id: 1})
    written, refused = await asyncio.gather(write_s, read_s, return_exceptions=True)
    assert not isinstance(written, BaseException)
    assert isinstance(refused, ConcurrencyError)
    assert (refused.stream_id, refused.expected, refused.current) == (s.stream_id, 1, 2)


async def test_a_cancelled_caller_does_not_stop_its_batch(store: EventStore) -> None:
    appends = [to_stream() for _ in range(10)]
    tasks = [asyncio.create_task(store.append(a, context=CTX)) for a in appends]
    await asyncio.sleep(0)  # every append is queued and the first batch is on its way
    tasks[3].cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[3], asyncio.CancelledError)
    for i, append in enumerate(appends):
        if i != 3:
            assert len(await store.read_stream(append.stream_id)) == 1
    # The batcher is free for the next append.
    assert (await store.append(to_stream(), context=CTX)).events


async def test_a_batch_waiting_on_an_open_rival_reports_only_its_conflict(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    taken = uuid.uuid4()
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await store.append(to_stream(taken), context=CTX, connection=conn)
        free = [to_stream() for _ in range(5)]
        batch = asyncio.gather(
            *(store.append(a, context=CTX) for a in [*free, to_stream(taken)]),
            return_exceptions=True,
        )
        await until_blocked_by(conn, conn.get_server_pid())
        await tx.commit()
    outcomes = await batch
    assert isinstance(outcomes[-1], ConcurrencyError) and outcomes[-1].current == 1
    assert all(not isinstance(o, BaseException) for o in outcomes[:-1])


@pytest.mark.parametrize("events", [2, 3])
async def test_multi_event_appends_keep_their_own_statement(store: EventStore, events: int) -> None:
    # A shared statement skips conflicting rows one by one, which would split these.
    stream = to_stream(n=events)
    rival = to_stream(stream.stream_id, n=1)
    outcomes = await asyncio.gather(
        store.append(stream, context=CTX), store.append(rival, context=CTX), return_exceptions=True
    )
    assert sum(isinstance(o, ConcurrencyError) for o in outcomes) == 1
    versions = [e.version for e in await store.read_stream(stream.stream_id)]
    assert versions in ([1], list(range(1, events + 1)))


async def test_a_replay_returns_only_its_own_append_from_a_shared_transaction(
    store: EventStore,
) -> None:
    keyed = [to_stream() for _ in range(6)]
    plain = [to_stream() for _ in range(6)]
    calls = [store.append(a, context=CTX, idempotency_key=f"k-{i}") for i, a in enumerate(keyed)]
    calls += [store.append(a, context=CTX) for a in plain]
    firsts = await asyncio.gather(*calls)
    assert len({r.events[0].transaction_id for r in firsts}) < len(calls)  # they shared
    for i, append in enumerate(keyed):
        again = await store.append(append, context=CTX, idempotency_key=f"k-{i}")
        assert again.replayed
        assert again.events == firsts[i].events
        assert [e.stream_id for e in again.events] == [append.stream_id]


async def test_a_deadlock_on_crossed_keys_sends_each_append_alone(
    pool: asyncpg.Pool, database_url: str
) -> None:
    first, second = sorted([uuid.uuid4(), uuid.uuid4()])
    # PostgreSQL aborts whichever waiter checks for deadlock first, and each checks once, after
    # its deadlock_timeout. The batch checks after 3 s, by when the rival waits too, however
    # loaded the machine; the rival would check only after 60 s. So the batch is the victim.
    batch_pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=2,
        init=init_connection,
        server_settings={"deadlock_timeout": "3s"},
    )
    store = EventStore(batch_pool)
    try:
        await crossed_keys(store, pool, first, second)
        assert await store.read_stream(first) == await store.read_stream(second) == []
    finally:
        await batch_pool.close()


async def crossed_keys(
    store: EventStore, pool: asyncpg.Pool, first: uuid.UUID, second: uuid.UUID
) -> None:
    """A batch and a rival transaction that wait on each other's idempotency keys."""
    async with pool.acquire() as conn:
        rival = conn.transaction()
        await rival.start()
        await store.append(to_stream(), context=CTX, idempotency_key="k1", connection=conn)
        # The batch writes k2 (first by stream id), then waits on the rival's k1...
        batch = asyncio.gather(
            store.append(to_stream(first), context=CTX, idempotency_key="k2"),
            store.append(to_stream(second), context=CTX, idempotency_key="k1"),
            return_exceptions=True,
        )
        await until_blocked_by(conn, conn.get_server_pid())
        # ...and the rival now waits on the batch's k2: PostgreSQL aborts the batch, and the
        # rival's append goes through.
        await conn.execute("SET LOCAL deadlock_timeout = '60s'")
        await store.append(to_stream(), context=CTX, idempotency_key="k2", connection=conn)
        await rival.commit()
    outcomes = await batch
    # Alone, each append met its key taken by the rival's different request.
    assert all(isinstance(o, IdempotencyKeyReused) for o in outcomes), outcomes
