import uuid
from datetime import date

import asyncpg

from projections.commitment_view import CommitmentViews
from projections.runner import ProjectionRunner
from tests.api.seed import SEEDER, seed_world
from tracker.domain import Commitment


async def test_smoke(repository, store, database_url, pool):
    world = await seed_world(repository)
    c = Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=world.id("ben"),
        by=world.id("ben"),
        description="x",
        purpose_ids=[world.purpose.id],
        made_on=date(2026, 11, 26),
    )
    c.report_progress(world.id("ben"), 40)
    await repository.save(c, context=SEEDER)
    runner = ProjectionRunner(store, [CommitmentViews()], lambda: asyncpg.connect(database_url))
    await runner.run_until_caught_up()
    rows = await pool.fetch("SELECT * FROM commitments")
    print([dict(r) for r in rows])
    print([dict(r) for r in await pool.fetch("SELECT * FROM forums")])
    print([dict(r) for r in await pool.fetch("SELECT * FROM projection_generations")])
    assert rows[0]["progress"] == 40
