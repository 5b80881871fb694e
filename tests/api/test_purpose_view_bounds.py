"""The purpose view lists at most a fixed number of each growing list, and counts it in full."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.clock import Clock
from tests.decisions import RULED
from tracker.application import bounds
from tracker.domain import Agreement, Commitment
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


async def view(client: Client, issue: Tokens, world: World, position: int) -> Any:
    assert world.purpose is not None
    amina = await issue.headers("leader", world.id("amina"))
    r = await client.get(
        f"/purposes/{world.purpose.id}/view", params={"min_position": position}, headers=amina
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_latest_revisions_and_endorsements_are_listed_and_all_counted(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world = await seed_world(repository)
    purpose = world.purpose
    assert purpose is not None
    for n in range(bounds.REVISIONS + 1):
        clock.advance(seconds=1)
        purpose.revise(world.id("amina"), f"Statement {n}", f"reason {n}")
    endorsers = [uuid.uuid4() for _ in range(bounds.ENDORSEMENTS + 1)]
    for leader_id in endorsers:
        clock.advance(seconds=1)
        purpose.endorse(leader_id)
    saved = await repository.save(purpose, context=SEEDER)

    got = await view(client, issue, world, saved.events[-1].position)

    assert [r["reason"] for r in got["revisions"]] == [
        f"reason {n}" for n in range(1, bounds.REVISIONS + 1)
    ]
    assert [e["leader_id"] for e in got["endorsements"]] == [str(i) for i in endorsers[1:]]
    assert got["totals"]["revisions"] == bounds.REVISIONS + 1
    assert got["totals"]["endorsements"] == bounds.ENDORSEMENTS + 1


async def test_the_most_contributing_leaders_are_listed_and_all_counted(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    owners = [uuid.uuid4() for _ in range(bounds.CONTRIBUTORS + 1)]
    made = []
    # The first owner promises twice and the last gives up, so order and counts both show.
    for owner in [owners[0], *owners]:
        clock.advance(seconds=1)
        made.append(commitment(world, owner))
    released = commitment(world, owners[-1])
    released.release(owners[-1], "no longer possible")
    saved = await repository.save(*made, released, context=SEEDER)

    got = await view(client, issue, world, saved.events[-1].position)

    assert len(got["contributors"]) == bounds.CONTRIBUTORS
    assert got["contributors"][0] == {
        "leader_id": str(owners[0]),
        "leader_name": None,  # an owner the views know no name for
        "organisation_ids": [],
        "organisation_names": [],
        "commitments": 2,
    }
    assert len(got["organisations"]) == 1  # all unaffiliated: one entry
    assert got["no_longer_pursued"]["commitments"] == 1
    totals = got["totals"]
    assert totals["contributors"] == bounds.CONTRIBUTORS + 1
    assert (totals["organisations"], totals["no_longer_pursued_leaders"]) == (1, 1)


async def test_the_agreements_adopted_last_are_listed_and_all_counted(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world = await seed_world(repository)
    assert world.purpose is not None
    agreements = []
    for n in range(bounds.AGREEMENTS_IN_FORCE + 1):
        clock.advance(seconds=1)
        a = Agreement.propose(
            uuid.uuid4(),
            "purpose",
            world.purpose.id,
            "expectation",
            f"Rule {n}",
            "x",
            world.id("ben"),
        )
        a.adopt(RULED)
        agreements.append(a)
    saved = await repository.save(*agreements, context=SEEDER)

    got = await view(client, issue, world, saved.events[-1].position)

    listed = [a["agreement_id"] for a in got["agreements_in_force"]]
    assert listed == [str(a.id) for a in agreements[1:]]
    assert got["totals"]["agreements_in_force"] == bounds.AGREEMENTS_IN_FORCE + 1


def commitment(world: World, owner: uuid.UUID) -> Commitment:
    assert world.forum is not None and world.purpose is not None
    return Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=owner,
        by=owner,
        description="A part",
        purpose_ids=[world.purpose.id],
        made_on=world.forum.created_on.date(),
    )
