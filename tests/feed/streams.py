"""Events to deliver: commitments of a seeded forum, each a stream of several steps."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.api.seed import SEEDER, World
from tests.clock import Clock
from tracker.domain import Commitment


async def commitments(world: World, clock: Clock, count: int, progress: int = 2) -> list[uuid.UUID]:
    """`count` commitments, made, accepted and progressed `progress` times, interleaved."""
    assert world.forum is not None and world.purpose is not None
    amina, ben = world.id("amina"), world.id("ben")
    made = [
        Commitment.make(
            uuid.uuid4(),
            forum_id=world.forum.id,
            owner_id=ben,
            by=amina,
            description=f"Open library {i} on Saturdays",
            purpose_ids=[world.purpose.id],
            made_on=clock.today(),
            due_on=clock.today() + timedelta(days=14),
        )
        for i in range(count)
    ]
    await world.repository.save(*made, context=SEEDER)
    for c in made:
        c.accept(ben)
    await world.repository.save(*made, context=SEEDER)
    for step in range(progress):
        for c in made:
            c.report_progress(ben, 10 * (step + 1), f"step {step + 1}")
            # One save per stream and step: the streams' events interleave in the log.
            await world.repository.save(c, context=SEEDER)
    return [c.id for c in made]
