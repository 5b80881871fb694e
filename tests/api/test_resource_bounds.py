"""Single resources and the register list at most a fixed number of each growing list, and
count it in full."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, seed_world
from tests.decisions import RULED
from tracker.application import bounds
from tracker.domain import Agreement, Leader
from tracker.domain.forum import RECORDER
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


async def test_a_forum_lists_the_first_members_and_stewards_by_id_and_counts_all(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    forum = world.forum
    assert forum is not None
    for _ in range(bounds.MEMBERS + 1):
        joined = uuid.uuid4()
        forum.join(joined)
        forum.appoint_steward(joined, RECORDER)
    await repository.save(forum, context=SEEDER)
    amina = await issue.headers("leader", world.id("amina"))

    got = (await client.get(f"/forums/{forum.id}", headers=amina)).json()

    assert got["members"] == [str(i) for i in sorted(forum.members)[: bounds.MEMBERS]]
    assert got["members_total"] == len(forum.members) == bounds.MEMBERS + 4
    assert [s["leader_id"] for s in got["stewards"]] == [
        str(i) for i in sorted(forum.stewards)[: bounds.MEMBERS]
    ]
    assert got["stewards_total"] == len(forum.stewards) == bounds.MEMBERS + 2


async def test_a_purpose_lists_the_latest_endorsements_and_counts_all(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    purpose = world.purpose
    assert purpose is not None
    endorsers = [uuid.uuid4() for _ in range(bounds.ENDORSEMENTS + 1)]
    for leader_id in endorsers:
        purpose.endorse(leader_id)
    await repository.save(purpose, context=SEEDER)
    amina = await issue.headers("leader", world.id("amina"))

    got = (await client.get(f"/purposes/{purpose.id}", headers=amina)).json()

    assert [e["leader_id"] for e in got["endorsements"]] == [str(i) for i in endorsers[1:]]
    assert got["endorsements_total"] == bounds.ENDORSEMENTS + 1


async def test_a_leader_lists_the_latest_affiliations_and_counts_all(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    leader = Leader.register(uuid.uuid4(), "Femi")
    organisations = [uuid.uuid4() for _ in range(bounds.AFFILIATIONS + 1)]
    for n, organisation in enumerate(organisations):
        leader.record_affiliation(organisation, "Trustee", date(2000, 1, 1) + timedelta(days=n))
    await repository.save(leader, context=SEEDER)
    admin = await issue.headers("admin")

    got = (await client.get(f"/leaders/{leader.id}", headers=admin)).json()

    listed = [a["organisation_id"] for a in got["affiliations"]]
    assert listed == [str(o) for o in organisations[1:]]
    assert got["affiliations_total"] == bounds.AFFILIATIONS + 1


async def test_the_register_lists_each_agreements_latest_amendments_and_counts_all(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    assert world.forum is not None
    rule = Agreement.propose(
        uuid.uuid4(), "forum", world.forum.id, "expectation", "Replies", "v0", world.id("amina")
    )
    rule.adopt(RULED)
    for n in range(1, bounds.AMENDMENTS + 2):
        rule.amend(f"v{n}", f"reason {n}")
    saved = await repository.save(rule, context=SEEDER)
    amina = await issue.headers("leader", world.id("amina"))

    r = await client.get(
        f"/forums/{world.forum.id}/agreements",
        params={"min_position": saved.events[-1].position},
        headers=amina,
    )

    assert r.status_code == 200, r.text
    [entry] = r.json()["agreements"]
    assert [a["reason"] for a in entry["amendments"]] == [
        f"reason {n}" for n in range(2, bounds.AMENDMENTS + 2)
    ]
    assert entry["amendments_total"] == bounds.AMENDMENTS + 1
    assert entry["text"] == f"v{bounds.AMENDMENTS + 1}"
