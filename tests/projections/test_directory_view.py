"""directory_v2 built batch by batch equals the same history folded in bulk, row for row, and
agrees with the aggregates it was folded from."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import asyncpg

from projections.bulk import build
from projections.directory_view import DirectoryView
from projections.rebuild import _target
from projections.runner import ProjectionRunner
from tests.projections.test_bulk import indexes_of, live_tables, tables_of
from tracker.application.ports import Context
from tracker.domain import DomainError, Forum, Leader, Organisation
from tracker.domain.forum import STEWARD_ROLES
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository

CTX = Context(actor="system:history")
DAY = date(2026, 1, 1)
TITLES = ["Director", "Trustee", "Chair"]


class DirectoryHistory:
    """Organisations, leaders and forums changing at random, always validly, through the domain."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.organisations = [
            Organisation.register(uuid.uuid4(), f"Org {i}", "council") for i in range(8)
        ]
        self.leaders = [
            Leader.register(uuid.uuid4(), f"Leader {i}", f"l{i}@example.org") for i in range(40)
        ]
        self.forums = [
            Forum.convene(uuid.uuid4(), f"Forum {i}", self.leaders[i].id) for i in range(5)
        ]
        self.pending: list[object] = [*self.organisations, *self.leaders, *self.forums]

    def step(self) -> None:
        """One random change; one the domain refuses changes nothing."""
        rng = self.rng
        org, leader, forum = (
            rng.choice(x) for x in (self.organisations, self.leaders, self.forums)
        )  # type: ignore[var-annotated]
        who, other = rng.choice(self.leaders).id, rng.choice(self.organisations)
        day = DAY + timedelta(days=rng.randint(0, 400))
        actions: list[tuple[object, Callable[[], None]]] = [
            (forum, lambda: forum.join(who)),
            (forum, lambda: forum.join(who)),
            (forum, lambda: forum.leave(who)),
            (forum, lambda: forum.appoint_steward(who, rng.choice(sorted(STEWARD_ROLES)))),
            (forum, lambda: forum.stand_down_steward(who, rng.choice(sorted(STEWARD_ROLES)))),
            (forum, lambda: forum.rename(f"Forum {rng.random():.4f}")),
            (leader, lambda: leader.record_affiliation(other.id, rng.choice(TITLES), day)),
            (leader, lambda: leader.record_affiliation(other.id, rng.choice(TITLES), day)),
            (leader, lambda: leader.end_affiliation(other.id, day + timedelta(days=500))),
            (leader, lambda: leader.correct_details(f"Leader {rng.random():.4f}", None)),
            (org, lambda: org.rename(f"Org {rng.random():.4f}")),
            (org, lambda: org.record_successor(other.id)),
        ]
        if rng.random() < 0.01:
            actions = [(leader, lambda: leader.deactivate("left")), (org, lambda: org.archive())]
        aggregate, action = rng.choice(actions)
        try:
            action()
        except DomainError:
            return
        if aggregate not in self.pending:
            self.pending.append(aggregate)

    async def flush(self, repository: Repository) -> None:
        pending, self.pending = self.pending, []
        if pending:
            await repository.save(*pending, context=CTX)  # type: ignore[arg-type]


async def generate(repository: Repository, seed: int, steps: int) -> DirectoryHistory:
    history = DirectoryHistory(seed)
    rng = random.Random(seed)
    for _ in range(steps):
        history.step()
        if rng.random() < 0.05:
            await history.flush(repository)
    await history.flush(repository)
    return history


async def test_directory_built_in_bulk_equals_the_live_path_and_the_aggregates(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    history = await generate(repository, seed=7, steps=3000)
    projection = DirectoryView()
    # Odd, small batches: rows are loaded and saved across many batch boundaries.
    runner = ProjectionRunner(store, [projection], lambda: asyncpg.connect(database_url), 23)
    await runner.run_until_caught_up()
    live = await live_tables(pool, projection)
    members = {
        (f.id, m, frozenset(f.stewards.get(m, set()))) for f in history.forums for m in f.members
    }
    rows = await pool.fetch("SELECT forum_id, leader_id, roles FROM directory_members")
    seen = {(r[0], r[1], frozenset(set(r[2]) - {"member", "steward"})) for r in rows}
    assert seen == members and any(len(roles) for *_, roles in members)
    assert len(live["directory_leaders"]) == 40 and len(live["directory_forums"]) == 5
    affiliated = await pool.fetch("SELECT leader_id, affiliations FROM directory_leaders")
    current = {
        leader.id: sorted(
            (str(a.organisation_id), a.title) for a in leader.affiliations if a.to_on is None
        )
        for leader in history.leaders
    }
    assert {
        r[0]: sorted((a["organisation_id"], a["title"]) for a in r[1]) for r in affiliated
    } == current
    assert any(current.values())
    left = "SELECT count(*) FROM events WHERE type = ANY($1::text[]) GROUP BY type ORDER BY type"
    kinds = ["forum.member_left", "leader.affiliation_ended", "organisation.successor_recorded"]
    assert len(await pool.fetch(left, kinds)) == 3  # the history moves every way

    # Every table keeps its past versions: departures and changes closed, the newest open.
    for table in DirectoryView.history:
        rows = live[f"{table}_history"]
        assert len(rows) > len(live[table]), table
        assert sum(1 for row in rows if row.endswith(",,)")) == len(live[table]), table

    generation = await _target(pool, projection)
    assert await build(runner.connect, [(projection, generation)]) == [projection.name]
    schema = projection.schema(generation)
    assert await tables_of(pool, schema) == live
    indexes = await indexes_of(pool, schema)
    assert len(indexes) > 5 and indexes == await indexes_of(pool, projection.schema(1))
