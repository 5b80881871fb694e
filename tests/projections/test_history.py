"""For a random history of 10,000+ events, the views built live equal a rebuild from scratch
and equal an independent model: the domain's own aggregates, kept in memory."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from projections.commitment_view import CommitmentViews
from projections.rebuild import rebuild
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.projections.history import History
from tests.projections.test_runner import snapshot, wait_for
from tracker.domain import Commitment
from tracker.eventstore import EventStore
from tracker.eventstore.repository import Repository


def expected_row(c: Commitment) -> dict[str, Any]:
    """What the commitments view must say, straight from the aggregate."""
    return {
        "commitment_id": str(c.id),
        "status": c.status,
        "owner_id": str(c.owner_id),
        "requester_id": None if c.requester_id is None else str(c.requester_id),
        "description": c.description,
        "purpose_ids": [str(p) for p in c.purpose_ids],
        "due_on": None if c.due_on is None else c.due_on.isoformat(),
        "original_due_on": None if c.original_due_on is None else c.original_due_on.isoformat(),
        "renegotiation_count": c.renegotiation_count,
        "progress": c.progress,
        "handover_to": None if c.handover_to is None else str(c.handover_to),
        "version": c.version,
    }


async def lag(pool: asyncpg.Pool) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM events e, projection_generations g "
            "WHERE g.name = 'commitment_views_v6' AND g.state = 'live' "
            "AND (e.transaction_id, e.position) > (g.transaction_id, g.position)"
        )
    )


async def test_live_views_equal_a_rebuild_and_the_domain_model(
    store: EventStore, pool: asyncpg.Pool, repository: Repository, database_url: str
) -> None:
    runner = ProjectionRunner(store, all_projections(), lambda: asyncpg.connect(database_url))
    stop = asyncio.Event()
    live = asyncio.create_task(runner.run(stop, poll_seconds=0.01))
    history = History(seed=2026, leaders=60, forums=6)
    events = 0
    while events < 10_000:
        for _ in range(60):
            history.step()
        await history.flush(repository)
        events = int(await pool.fetchval("SELECT count(*) FROM events"))

    async def caught_up() -> bool:
        return await lag(pool) == 0

    await wait_for(caught_up, seconds=60)
    stop.set()
    await live
    built_live = await snapshot(pool)

    rows = {r["commitment_id"]: r for r in built_live["commitments"]}
    assert len(rows) == len(history.commitments)
    for c in history.commitments:
        row = rows[str(c.id)]
        assert {k: row[k] for k in expected_row(c)} == expected_row(c)
    assert len(built_live["commitment_changes"]) == sum(c.version for c in history.commitments)

    await rebuild(runner, CommitmentViews())
    assert await snapshot(pool) == built_live
