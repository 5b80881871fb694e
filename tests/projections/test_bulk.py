"""A generation built in bulk (the whole log folded in memory, each table COPYed once) equals,
row for row, the same views built by the live path batch by batch; and a bulk build that is
interrupted, or whose fold fails, leaves nothing that counts behind."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from projections import bulk, bulk_target
from projections import rebuild as rebuild_module
from projections.base import Projection
from projections.bulk import build
from projections.bulk_commitment import CommitmentBulk
from projections.commitment_view import CommitmentViews
from projections.governance_view import GovernanceViews
from projections.rebuild import RebuildRunning, _target, rebuild_many
from projections.runner import REBUILD, ProjectionRunner
from tests.decisions import RULED
from tests.projections.history import History
from tracker.domain import (
    AffiliationSnapshot,
    Agreement,
    Attendance,
    DomainError,
    Meeting,
)
from tracker.eventstore import EventStore, RecordedEvent
from tracker.eventstore.repository import Repository

PRESENCES = ["attended", "apologies"]


class GovernedHistory(History):
    """The commitment history, plus purposes, meetings and agreements moving along."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed, leaders=40, forums=4)
        self.meetings: list[Meeting] = []
        self.agreements: list[Agreement] = []
        # Renames draw on their own generator, so the rest of the history stays as it was.
        self.renames = random.Random(seed)

    def step(self) -> None:
        """A commitment step half the time, otherwise a governance one; now and then a rename."""
        if self.renames.random() < 0.03 and (renamed := self._rename()) not in self.pending:
            self.pending.append(renamed)
        if self.rng.random() < 0.5:
            super().step()
            return
        action = self.rng.choice([self._purpose, self._meeting, self._agreement])
        try:
            aggregate = action()
        except DomainError:
            return
        if aggregate.pending_events and aggregate not in self.pending:  # type: ignore[attr-defined]
            self.pending.append(aggregate)

    def _someone(self, forum_id: uuid.UUID) -> uuid.UUID:
        return self.rng.choice(next(m for f, m in self.forums if f.id == forum_id))

    def _affiliation(self) -> AffiliationSnapshot | None:
        if self.rng.random() < 0.5:
            return None
        org = self.rng.choice(self.organisations)
        return AffiliationSnapshot(org.id, "Org", "Director")

    def _purpose(self) -> object:
        forum_id, purpose = self.rng.choice(self.purposes)
        who = self._someone(forum_id)
        self.rng.choice(
            [
                lambda: purpose.endorse(who, self._affiliation()),
                lambda: purpose.endorse(who, self._affiliation()),
                lambda: purpose.withdraw_endorsement(who),
                lambda: purpose.revise(who, f"Statement {self.rng.random():.3f}", "clearer"),
                lambda: purpose.adopt(RULED),
                lambda: purpose.retire("done") if self.rng.random() < 0.1 else None,
            ]
        )()
        return purpose

    def _meeting(self) -> object:
        if not self.meetings or self.rng.random() < 0.3:
            forum, _ = self.rng.choice(self.forums)
            starts = datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(hours=len(self.meetings))
            location = self.rng.choice(["", "Town hall", "Room 2\ttab"])
            meeting = Meeting.schedule(
                uuid.uuid4(), forum.id, f"Meeting {len(self.meetings)}", starts, location
            )
            self.meetings.append(meeting)
            return meeting
        meeting = self.rng.choice(self.meetings)
        people = [self._someone(meeting.forum_id) for _ in range(3)]
        self.rng.choice(
            [
                meeting.open,
                lambda: meeting.invite(people),
                lambda: meeting.record_attendance(
                    [
                        Attendance(
                            p, self.rng.choice(["attended", "apologies"]), self._affiliation()
                        )
                        for p in dict.fromkeys(people)
                    ]
                ),
                lambda: meeting.record_decision(
                    uuid.uuid4(), "Agreed", self.rng.choice([None, RULED])
                ),
                meeting.finalise_record,
                lambda: meeting.reopen("correction"),
                lambda: meeting.cancel("clash"),
            ]
        )()
        return meeting

    def _rename(self) -> object:
        """A leader's name corrected, an organisation or a forum renamed."""
        name = f"{self.renames.random():.3f}"
        kind = self.renames.randrange(3)
        if kind == 0:
            organisation = self.renames.choice(self.organisations)
            organisation.rename(f"Org {name}")
            return organisation
        if kind == 1:
            leader = self.renames.choice(self.leaders)
            leader.correct_details(f"Leader {name}", None)
            return leader
        forum, _ = self.renames.choice(self.forums)
        forum.rename(f"Forum {name}")
        return forum

    def _agreement(self) -> object:
        if not self.agreements or self.rng.random() < 0.3:
            forum_id, purpose = self.rng.choice(self.purposes)
            scope, scope_id = self.rng.choice([("forum", forum_id), ("purpose", purpose.id)])
            agreement = Agreement.propose(
                uuid.uuid4(),
                scope,
                scope_id,
                self.rng.choice(["expectation", "constraint"]),
                "Title",
                "Text",
                self._someone(forum_id),
            )
            self.agreements.append(agreement)
            return agreement
        agreement = self.rng.choice(self.agreements)
        self.rng.choice(
            [
                lambda: agreement.adopt(RULED),
                lambda: agreement.amend(f"Text {self.rng.random():.3f}", "tighter"),
                lambda: agreement.rescind("obsolete"),
            ]
        )()
        return agreement


async def generate(repository: Repository, seed: int, steps: int) -> None:
    """Save a history in appends of random sizes."""
    history = GovernedHistory(seed)
    rng = random.Random(seed)
    for _ in range(steps):
        history.step()
        if rng.random() < 0.05:
            await history.flush(repository)
    await history.flush(repository)


async def tables_of(pool: asyncpg.Pool, schema: str) -> dict[str, list[str]]:
    """Every row of every table in a schema, as PostgreSQL prints it (so NULL differs from a
    JSON null, and a time from its text), in a fixed order."""
    names = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
    )
    out = {}
    for (name,) in names:
        sql = f'SELECT t::text FROM "{schema}"."{name}" t ORDER BY 1'
        out[name] = [r[0] for r in await pool.fetch(sql)]
    return out


async def indexes_of(pool: asyncpg.Pool, schema: str) -> list[str]:
    """Every index and constraint of a schema's tables, with the schema's name left out."""
    rows = await pool.fetch(
        "SELECT replace(indexdef, $1 || '.', '') FROM pg_indexes WHERE schemaname = $1 "
        "UNION ALL SELECT conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 ORDER BY 1",
        schema,
    )
    return [r[0] for r in rows]


def runner_for(store: EventStore, url: str, batch_size: int = 1000) -> ProjectionRunner:
    return ProjectionRunner(
        store, [CommitmentViews(), GovernanceViews()], lambda: asyncpg.connect(url), batch_size
    )


async def live_tables(pool: asyncpg.Pool, projection: Projection) -> dict[str, list[str]]:
    generation = await pool.fetchval(
        "SELECT live_generation FROM projections WHERE name = $1", projection.name
    )
    return await tables_of(pool, projection.schema(generation))


async def test_a_bulk_build_equals_the_live_path_row_for_row(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=31, steps=6000)
    # Odd, small batches: rows are loaded and saved across many batch boundaries.
    runner = runner_for(store, database_url, batch_size=97)
    await runner.run_until_caught_up()
    projections = [CommitmentViews(), GovernanceViews()]
    live = {p.name: await live_tables(pool, p) for p in projections}
    assert len(live["commitment_views_v6"]["commitment_changes"]) > 800
    assert live["governance_views_v4"]["meeting_attendance"]
    assert live["governance_views_v4"]["purpose_endorsements"]
    assert live["governance_views_v4"]["meeting_decisions"]
    assert any("Org 0." in row for row in live["commitment_views_v6"]["organisations"])
    assert any("Leader 0." in row for row in live["commitment_views_v6"]["leader_organisations"])

    targets = [(p, await _target(pool, p)) for p in projections]
    assert await build(runner.connect, targets) == [p.name for p in projections]
    for projection, generation in targets:
        assert await tables_of(pool, projection.schema(generation)) == live[projection.name]
        # Indexes are dropped for the load and built again before the checkpoint moves.
        indexes = await indexes_of(pool, projection.schema(generation))
        assert len(indexes) > 3 and indexes == await indexes_of(pool, projection.schema(1))
    events = await pool.fetchval("SELECT count(*) FROM events")
    checkpoints = await pool.fetch(
        "SELECT g.transaction_id, g.position FROM projection_generations g "
        "WHERE g.generation = 2 ORDER BY name"
    )
    head = await pool.fetchrow(
        "SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC "
        "LIMIT 1"
    )
    assert events > 0 and [tuple(c) for c in checkpoints] == [tuple(head)] * 2


async def test_a_bulk_build_vacuums_and_analyses_its_tables_before_they_are_published(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=7, steps=600)
    runner = runner_for(store, database_url)
    projections = [CommitmentViews(), GovernanceViews()]
    generations = await rebuild_many(runner, projections)
    for projection in projections:
        tables = await pool.fetch(
            "SELECT relname, last_vacuum, last_analyze FROM pg_stat_user_tables "
            "WHERE schemaname = $1",
            projection.schema(generations[projection.name]),
        )
        kept = {f"{t}_history" for t in projection.history}
        assert {t["relname"] for t in tables} == set(projection.tables) | kept
        assert all(t["last_analyze"] for t in tables), tables
        # Histories are analysed only: past reads fetch their rows' ranges from the heap.
        vacuumed = {t["relname"] for t in tables if t["last_vacuum"]}
        assert vacuumed == set(projection.tables), tables


async def test_a_rebuild_builds_in_bulk_then_catches_up_what_came_later(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=5, steps=1500)
    runner = runner_for(store, database_url)
    projections = [CommitmentViews(), GovernanceViews()]
    targets = [(p, await _target(pool, p)) for p in projections]
    await build(runner.connect, targets)
    await generate(repository, seed=6, steps=800)  # after the bulk checkpoint
    generations = await rebuild_many(runner, projections)
    assert generations == {p.name: 2 for p in projections}
    rebuilt = {p.name: await live_tables(pool, p) for p in projections}
    # The same log replayed by the live path alone, into a third generation.
    replayed = {}
    for projection in projections:
        generation = await _target(pool, projection)
        while await runner.step(projection, generation) > 0:
            pass
        replayed[projection.name] = await tables_of(pool, projection.schema(generation))
    assert rebuilt == replayed


async def test_an_interrupted_bulk_build_leaves_the_generation_at_the_start_and_starts_again(
    store: EventStore,
    pool: asyncpg.Pool,
    repository: Repository,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await generate(repository, seed=8, steps=1500)
    runner = runner_for(store, database_url)
    await runner.run_until_caught_up()
    projections = [CommitmentViews(), GovernanceViews()]
    live = {p.name: await live_tables(pool, p) for p in projections}
    indexes = {p.name: await indexes_of(pool, p.schema(1)) for p in projections}
    monkeypatch.setattr(bulk, "PAGE", 100)
    pages: list[int] = []

    def interrupt(done: int, total: int, elapsed: float) -> None:
        pages.append(done)
        if len(pages) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rebuild_many(runner, projections, interrupt)
    for projection in projections:
        state = await pool.fetchrow(
            "SELECT state, transaction_id::text, position, events_applied "
            "FROM projection_generations WHERE name = $1 AND generation = 2",
            projection.name,
        )
        # Pages written before the interruption may remain; the checkpoint says none count.
        assert tuple(state) == ("building", "0", 0, 0)
    assert {p.name: await live_tables(pool, p) for p in projections} == live
    # Nothing was left holding the rebuild locks or an open transaction. The read's connection
    # is dropped, not closed (a fetch may be running on it), and its server process ends as soon
    # as it sees the socket closed: give it a moment.
    for _ in range(200):
        open_transactions = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'"
        )
        if open_transactions == 0:
            break
        await asyncio.sleep(0.025)
    assert open_transactions == 0
    assert await rebuild_many(runner, projections, interrupt) == {p.name: 2 for p in projections}
    assert {p.name: await live_tables(pool, p) for p in projections} == live
    # The interrupted build had dropped the indexes; the next one put every one back.
    for projection in projections:
        rebuilt = await indexes_of(pool, projection.schema(2))
        assert len(rebuilt) > 3 and rebuilt == indexes[projection.name]


async def test_a_bulk_build_holds_no_transaction_open_while_it_reads(
    store: EventStore,
    pool: asyncpg.Pool,
    repository: Repository,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A writing transaction held across the read would stop every live runner's horizon."""
    await generate(repository, seed=12, steps=1500)
    runner = runner_for(store, database_url)
    monkeypatch.setattr(bulk, "PAGE", 100)
    holding: list[int] = []
    flush, scan = bulk_target.Target.flush, bulk._scan
    scanning = False

    async def watched(target: bulk_target.Target) -> None:
        await flush(target)
        await target.settle()
        if not scanning:
            return  # once the log is read, the generations are written side by side
        holding.append(
            await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_xid IS NOT NULL"
                # Servers of other tests, still running in this test run, renew leases, apply
                # batches (on their API pool) and seal; the rebuild uses none of those roles.
                " AND application_name NOT IN"
                " ('tracker-projections', 'tracker-api', 'tracker-sealer')"
            )
        )

    async def scanned(*args: Any) -> int:
        nonlocal scanning
        scanning = True
        try:
            return await scan(*args)
        finally:
            scanning = False

    monkeypatch.setattr(bulk_target.Target, "flush", watched)
    monkeypatch.setattr(bulk, "_scan", scanned)
    projections = [CommitmentViews(), GovernanceViews()]
    targets = [(p, await _target(pool, p)) for p in projections]
    assert await build(runner.connect, targets) == [p.name for p in projections]
    assert len(holding) > 10 and set(holding) == {0}


class BrokenBulk(CommitmentBulk):
    """The commitment bulk fold, failing part way through the log."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def apply(self, event: RecordedEvent) -> None:
        self.seen += 1
        if self.seen == 50:
            raise ValueError("cannot fold this one")
        super().apply(event)


class BrokenInBulk(CommitmentViews):
    """The commitment views whose bulk fold fails: the live path must take over."""

    def bulk(self) -> CommitmentBulk:
        return BrokenBulk()


async def test_a_projection_whose_bulk_fold_fails_is_replayed_by_the_live_path(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    await generate(repository, seed=9, steps=1500)
    runner = runner_for(store, database_url)
    await runner.run_until_caught_up()
    projections = [BrokenInBulk(), GovernanceViews()]
    live = {p.name: await live_tables(pool, p) for p in projections}
    targets = [(p, await _target(pool, p)) for p in projections]
    assert await build(runner.connect, targets) == ["governance_views_v4"]
    assert not any((await tables_of(pool, projections[0].schema(2))).values())
    # Emptied with its indexes in place, for the live path to fill.
    indexes = await indexes_of(pool, projections[0].schema(2))
    assert len(indexes) > 3 and indexes == await indexes_of(pool, projections[0].schema(1))
    await rebuild_many(runner, projections)
    assert {p.name: await live_tables(pool, p) for p in projections} == live


async def test_a_partly_replayed_generation_resumes_from_its_checkpoint(
    store: EventStore,
    pool: asyncpg.Pool,
    repository: Repository,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await generate(repository, seed=10, steps=1500)
    runner = runner_for(store, database_url, batch_size=300)
    await runner.run_until_caught_up()
    projection = CommitmentViews()
    live = await live_tables(pool, projection)
    generation = await _target(pool, projection)
    await runner.step(projection, generation)  # an older rebuild got this far, batch by batch
    calls: list[Any] = []

    async def no_bulk(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(args)
        return []

    monkeypatch.setattr(rebuild_module, "build", no_bulk)
    await rebuild_many(runner, [projection])
    assert calls == []  # not empty, so not rebuilt in bulk
    assert await live_tables(pool, projection) == live


async def test_a_rebuild_of_several_refuses_when_one_is_already_running(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    runner = runner_for(store, database_url)
    async with pool.acquire() as other:
        await other.fetchval(
            "SELECT pg_try_advisory_lock($1, hashtext($2))", REBUILD, "governance_views_v4"
        )
        with pytest.raises(RebuildRunning):
            await rebuild_many(runner, [CommitmentViews(), GovernanceViews()])
        await other.fetchval(
            "SELECT pg_advisory_unlock($1, hashtext($2))", REBUILD, "governance_views_v4"
        )
    # The lock it took on the first was released: a rebuild of that one alone goes ahead.
    assert await rebuild_many(runner, [CommitmentViews()]) == {"commitment_views_v6": 2}
