"""The repository's aggregate cache: never acts on stale state, never leaks an unsaved change."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tests.clock import START
from tracker.application.commands import Commands, PreconditionFailed, Request
from tracker.application.errors import ConcurrencyError
from tracker.application.ports import Saved
from tracker.application.principal import Principal
from tracker.database import create_pool
from tracker.domain import (
    EVENT_TYPES,
    STREAM_TYPES,
    Commitment,
    Forum,
    IllegalTransition,
    InvalidValue,
    Leader,
)
from tracker.eventstore import EventStore
from tracker.eventstore.envelope import Context, NewEvent, StreamAppend
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

SEEDER = Context(actor="system:test")
PURPOSE = uuid.uuid4()  # cited by id only: the domain does not load it


def process(pool: asyncpg.Pool) -> Repository:
    """A repository with caches of its own, as another server process would have."""
    return Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))


def leader_request(leader_id: uuid.UUID, if_match: int | None = None) -> Request:
    principal = Principal(kind="leader", token_id=uuid.uuid4(), name="t", leader_id=leader_id)
    return Request(principal=principal, if_match=if_match)


def commitment_of(forum: Forum, owner: Leader, by: uuid.UUID) -> Commitment:
    """A commitment in the forum, made by its owner (active) or recorded by another (proposed)."""
    return Commitment.make(
        uuid.uuid4(),
        forum_id=forum.id,
        owner_id=owner.id,
        by=by,
        description="Open a hub",
        purpose_ids=[PURPOSE],
        made_on=START.date(),
    )


async def report(commands: Commands, leader: Leader, commitment: Commitment, percent: int) -> Saved:
    """The leader reports progress on the commitment through the service layer."""
    return await commands.update(
        leader_request(leader.id),
        Commitment,
        commitment.id,
        lambda c: c.report_progress(leader.id, percent),
    )


async def seed(repository: Repository) -> tuple[Forum, Leader, Leader, Commitment]:
    """A forum of two leaders and an active commitment of the first."""
    ann, bob = Leader.register(uuid.uuid4(), "Ann"), Leader.register(uuid.uuid4(), "Bob")
    forum = Forum.convene(uuid.uuid4(), "Warm spaces", ann.id)
    forum.join(bob.id)
    commitment = commitment_of(forum, ann, ann.id)
    await repository.save(ann, bob, forum, commitment, context=SEEDER)
    return forum, ann, bob, commitment


async def reported_here(
    pool: asyncpg.Pool,
) -> tuple[Repository, Repository, Leader, Commitment, Commands]:
    """Two processes; the commitment seeded there, progress reported (and so cached) here."""
    here, there = process(pool), process(pool)
    _, ann, _, commitment = await seed(there)
    commands = Commands(here)
    await report(commands, ann, commitment, 20)
    return here, there, ann, commitment, commands


class Watch:
    """Counts the reads of the log a repository's watch has finished, failed ones too."""

    def __init__(self) -> None:
        self.reads = 0
        self._read = asyncio.Event()

    def finished_a_read(self) -> None:
        self.reads += 1
        self._read.set()

    async def until_reads(self, count: int, seconds: float = 10.0) -> None:
        """Wait until the watch has finished count reads in all; fail if it does not."""
        try:
            async with asyncio.timeout(seconds):
                while self.reads < count:
                    self._read.clear()
                    await self._read.wait()
        except TimeoutError:
            raise AssertionError(f"the watch finished {self.reads} of {count} reads") from None


@contextlib.asynccontextmanager
async def watching(repository: Repository) -> AsyncIterator[Watch]:
    """The repository follows the log (from its head) while the block runs."""
    watch, stop = Watch(), asyncio.Event()
    versions_after = repository.store.versions_after

    async def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            return await versions_after(*args, **kwargs)
        finally:
            watch.finished_a_read()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repository.store, "versions_after", counted)
        task = asyncio.create_task(repository.watch_other_writers(stop, poll_seconds=0.01))
        try:
            # Its first read comes after it took the head: writes from now on are after its start.
            await watch.until_reads(1)
            yield watch
        finally:
            stop.set()
            await task


async def cached_at(repository: Repository, commitment_id: uuid.UUID, version: int) -> Commitment:
    """The cached commitment once it reaches the version (the test fails if it never does)."""
    for _ in range(500):
        cached = repository.cache.peek(commitment_id)
        if cached is not None and cached.version >= version:
            break
        await asyncio.sleep(0.01)
    assert isinstance(cached, Commitment) and cached.version == version
    return cached


async def test_a_plain_read_catches_up_with_another_process(pool: asyncpg.Pool) -> None:
    here, there = process(pool), process(pool)
    forum, _, bob, _ = await seed(there)
    assert (await here.read(Forum, forum.id)).is_member(bob.id)
    moved = await there.get(Forum, forum.id)
    moved.leave(bob.id)
    await there.save(moved, context=SEEDER)

    latest = await here.read(Forum, forum.id)
    assert latest.version == moved.version and not latest.is_member(bob.id)


async def test_an_update_acts_on_the_latest_state_not_the_cached_one(pool: asyncpg.Pool) -> None:
    _, there, ann, commitment, commands = await reported_here(pool)
    elsewhere = await there.get(Commitment, commitment.id)
    elsewhere.report_progress(ann.id, 60)
    await there.save(elsewhere, context=SEEDER)

    # Going down needs a note: acting on the cached 20 would pass, the stored 60 must refuse.
    with pytest.raises(InvalidValue):
        await report(commands, ann, commitment, 40)
    saved = await report(commands, ann, commitment, 80)
    assert [e.version for e in saved.events] == [4]
    assert (await there.get(Commitment, commitment.id)).progress == 80


async def test_if_match_is_judged_against_the_stream_not_the_cache(pool: asyncpg.Pool) -> None:
    here, there = process(pool), process(pool)
    _, ann, _, commitment = await seed(there)
    assert (await here.read(Commitment, commitment.id)).version == 1
    elsewhere = await there.get(Commitment, commitment.id)
    elsewhere.report_progress(ann.id, 60)
    await there.save(elsewhere, context=SEEDER)
    commands = Commands(here)

    with pytest.raises(PreconditionFailed) as refused:
        await commands.update(
            leader_request(ann.id, if_match=1),
            Commitment,
            commitment.id,
            lambda c: c.report_progress(ann.id, 70),
        )
    assert refused.value.current == 2
    saved = await commands.update(
        leader_request(ann.id, if_match=2),
        Commitment,
        commitment.id,
        lambda c: c.report_progress(ann.id, 70),
    )
    assert [e.version for e in saved.events] == [3]


async def test_a_command_on_a_stale_reference_is_retried_on_its_latest_state(
    pool: asyncpg.Pool,
) -> None:
    here, there = process(pool), process(pool)
    forum, ann, bob, _ = await seed(there)
    commands = Commands(here)
    await here.read(Forum, forum.id)  # cached here with Bob still a member
    moved = await there.get(Forum, forum.id)
    moved.leave(bob.id)
    await there.save(moved, context=SEEDER)
    attempts: list[int] = []

    async def build() -> list[Commitment]:
        cached = await here.read(Forum, forum.id)
        attempts.append(cached.version)
        if not cached.is_member(bob.id):
            raise InvalidValue("owner_id", "the owner must be a member of the forum")
        return [commitment_of(forum, bob, ann.id)]

    with pytest.raises(InvalidValue):
        await commands.create(leader_request(ann.id), build)
    # The first attempt trusted the cache; the guard refused its save and the retry saw Bob go.
    assert attempts == [forum.version, moved.version]
    assert await pool.fetchval("SELECT count(*) FROM events WHERE type = 'commitment.made'") == 1


async def test_a_failed_command_leaves_the_cached_state_untouched(pool: asyncpg.Pool) -> None:
    repository = process(pool)
    _, ann, _, commitment = await seed(repository)
    before = await repository.read(Commitment, commitment.id)

    def act(c: Commitment) -> None:
        c.report_progress(ann.id, 50)
        raise RuntimeError("the handler failed after changing its copy")

    with pytest.raises(RuntimeError):
        await Commands(repository).update(leader_request(ann.id), Commitment, commitment.id, act)
    after = await repository.read(Commitment, commitment.id)
    assert after is before and after.version == 1 and after.progress is None


async def test_an_append_guarded_by_a_moved_stream_writes_nothing(store: EventStore) -> None:
    read, written = uuid.uuid4(), uuid.uuid4()
    event = NewEvent(type="test.happened", payload={"n": 1})
    await store.append(
        StreamAppend(stream_id=read, stream_type="test", expected_version=0, events=[event]),
        context=SEEDER,
    )
    await store.append(
        StreamAppend(stream_id=read, stream_type="test", expected_version=1, events=[event]),
        context=SEEDER,
    )

    with pytest.raises(ConcurrencyError) as conflict:
        await store.append(
            StreamAppend(stream_id=written, stream_type="test", expected_version=0, events=[event]),
            context=SEEDER,
            unchanged={read: 1},
        )
    assert (conflict.value.stream_id, conflict.value.expected, conflict.value.current) == (
        read,
        1,
        2,
    )
    assert await store.read_stream(written) == []
    landed = await store.append(
        StreamAppend(stream_id=written, stream_type="test", expected_version=0, events=[event]),
        context=SEEDER,
        unchanged={read: 2},
    )
    assert [e.version for e in landed.events] == [1]


async def test_following_the_log_brings_the_cache_up_to_date_with_another_process(
    pool: asyncpg.Pool,
) -> None:
    here, there, ann, commitment, commands = await reported_here(pool)
    async with watching(here):
        elsewhere = await there.get(Commitment, commitment.id)
        elsewhere.report_progress(ann.id, 60)
        elsewhere.report_progress(ann.id, 70)
        await there.save(elsewhere, context=SEEDER)
        assert (await cached_at(here, commitment.id, 4)).progress == 70
    assert not here.is_stale(commitment.id)
    calls: list[str] = []
    for name in ("append", "read_stream"):
        original = getattr(here.store, name)

        async def counted(*args: Any, _name: str = name, _f: Any = original, **kw: Any) -> Any:
            calls.append(_name)
            return await _f(*args, **kw)

        setattr(here.store, name, counted)
    # Going down needs a note: acting on the 20 this process wrote would pass, 70 must refuse.
    with pytest.raises(InvalidValue):
        await report(commands, ann, commitment, 40)
    saved = await report(commands, ann, commitment, 80)
    # Current already: no query for newer events, and the first save landed.
    assert calls == ["append"] and [e.version for e in saved.events] == [5]


async def test_a_stale_cache_nobody_marked_costs_a_retry_not_a_wrong_write(
    pool: asyncpg.Pool,
) -> None:
    here, there, ann, commitment, commands = await reported_here(pool)
    elsewhere = await there.get(Commitment, commitment.id)
    elsewhere.complete(ann.id)
    await there.save(elsewhere, context=SEEDER)
    assert not here.is_stale(commitment.id)  # nothing followed the log here

    # The cached copy is still active, so the report passes there; the save must not land.
    with pytest.raises(IllegalTransition):
        await report(commands, ann, commitment, 90)
    versions = await pool.fetch(
        "SELECT type FROM events WHERE stream_id = $1 ORDER BY version", commitment.id
    )
    assert [v["type"] for v in versions][-1] == "commitment.completed"


async def test_the_watch_goes_on_after_its_connection_is_cut(
    pool: asyncpg.Pool, database_url: str
) -> None:
    own = await create_pool(database_url, size=1)
    try:
        here, there = process(own), process(pool)
        _, ann, _, commitment = await seed(there)
        await report(Commands(here), ann, commitment, 20)
        async with watching(here) as watch:
            backend = await own.fetchval("SELECT pg_backend_pid()")
            assert await pool.fetchval("SELECT pg_terminate_backend($1)", backend)
            # The read under way at the cut may end before it: wait for one begun after it.
            await watch.until_reads(watch.reads + 2)
            elsewhere = await there.get(Commitment, commitment.id)
            elsewhere.report_progress(ann.id, 60)
            await there.save(elsewhere, context=SEEDER)
            assert (await cached_at(here, commitment.id, 3)).progress == 60
    finally:
        await own.close()
