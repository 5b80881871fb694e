"""Who contributes to a purpose: live and finished work only, each commitment counted under its
owner's organisation on the day it was made; work given up is shown apart."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tracker.domain import Commitment, Leader, Organisation
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
SEP_15, OCT_1, OCT_2 = date(2026, 9, 15), date(2026, 10, 1), date(2026, 10, 2)


def commitment(world: World, owner: str, made_on: date = OCT_1, **terms: Any) -> Commitment:
    """A commitment citing the world's purpose, made by its owner unless `by` says otherwise."""
    assert world.forum is not None and world.purpose is not None
    by = terms.pop("by", owner)
    return Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=world.id(owner),
        by=world.id(by),
        description=f"{owner}'s part",
        purpose_ids=[world.purpose.id],
        made_on=made_on,
        **terms,
    )


async def view(client: Client, issue: Tokens, world: World, at: int) -> Any:
    assert world.purpose is not None
    r = await client.get(
        f"/purposes/{world.purpose.id}/view?min_position={at}",
        headers=await issue.headers("auditor"),
    )
    assert r.status_code == 200, r.text
    return r.json()


def counted(entries: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {x[key]: x["commitments"] for x in entries}


async def test_released_declined_withdrawn_and_cancelled_work_is_no_longer_pursued(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository, ("amina", "ben", "chloe", "pat"))
    amina, ben, chloe, pat = (world.id(n) for n in ("amina", "ben", "chloe", "pat"))
    c = {
        "live": commitment(world, "ben"),
        "done": commitment(world, "chloe", requester_id=amina),
        "released": commitment(world, "pat"),
        "declined": commitment(world, "pat", by="amina", requester_id=amina),
        "withdrawn": commitment(world, "chloe", by="amina", requester_id=amina),
        "cancelled": commitment(world, "ben", requester_id=amina),
    }
    c["done"].complete(chloe)
    c["done"].acknowledge(amina)
    c["released"].release(pat, "Officers redeployed to the festival")
    c["declined"].decline(pat, "Not ours to do")
    c["withdrawn"].withdraw(amina, reason="Found another way")
    c["cancelled"].cancel(amina, "The ward closed")
    saved = await repository.save(*c.values(), context=SEEDER)

    got = await view(client, issue, world, saved.events[-1].position)

    org = {n: str(world.organisations[n].id) for n in ("ben", "chloe", "pat")}
    assert counted(got["organisations"], "organisation_id") == {org["ben"]: 1, org["chloe"]: 1}
    assert counted(got["contributors"], "leader_id") == {str(ben): 1, str(chloe): 1}
    gone = got["no_longer_pursued"]
    assert gone["commitments"] == 4
    assert counted(gone["organisations"], "organisation_id") == {
        org["pat"]: 2,
        org["ben"]: 1,
        org["chloe"]: 1,
    }
    assert counted(gone["leaders"], "leader_id") == {str(pat): 2, str(ben): 1, str(chloe): 1}


async def test_a_purpose_with_only_live_and_finished_work_has_nothing_given_up(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    done = commitment(world, "chloe")
    done.complete(world.id("chloe"))
    saved = await repository.save(commitment(world, "ben"), done, context=SEEDER)

    got = await view(client, issue, world, saved.events[-1].position)

    assert len(got["organisations"]) == 2
    assert got["no_longer_pursued"] == {"commitments": 0, "leaders": [], "organisations": []}


async def test_work_counts_under_the_organisation_its_owner_was_with_on_the_day_it_was_made(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    council = world.organisations["ben"].id
    trust = Organisation.register(uuid.uuid4(), "Northfield NHS Trust", "nhs")
    ben: Leader = world.leaders["ben"]
    ben.end_affiliation(council, date(2026, 9, 30))
    ben.record_affiliation(trust.id, "Discharge lead", OCT_1)
    await repository.save(trust, ben, context=SEEDER)
    # Minuted after the move, but promised while Ben was still with the council.
    before, after = commitment(world, "ben", SEP_15), commitment(world, "ben", OCT_2)
    saved = await repository.save(before, after, context=SEEDER)

    got = await view(client, issue, world, saved.events[-1].position)

    assert counted(got["organisations"], "organisation_id") == {str(council): 1, str(trust.id): 1}
    [contributor] = got["contributors"]
    assert contributor["organisation_ids"] == sorted([str(council), str(trust.id)])
    items = {x["commitment_id"]: x["owner_organisation_id"] for x in got["commitments"]["items"]}
    assert items == {str(before.id): str(council), str(after.id): str(trust.id)}
