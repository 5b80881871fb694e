"""A meeting's decision names the forum's decision rule in force whenever it has one; a forum
with none yet records it under none, or by bootstrap consent. Refusals are 422s naming the
field, and write nothing."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_decision_rule, seed_world
from tests.clock import START
from tracker.domain import Attendance, Meeting
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


async def a_meeting(repository: Repository) -> tuple[World, Meeting]:
    """The seeded forum's open meeting, Amina and Ben attending and Chloe sending apologies."""
    world = await seed_world(repository)
    assert world.forum is not None
    meeting = Meeting.schedule(uuid.uuid4(), world.forum.id, "Board", START)
    meeting.open()
    meeting.record_attendance(
        [
            Attendance(world.id("amina"), "attended"),
            Attendance(world.id("ben"), "attended"),
            Attendance(world.id("chloe"), "apologies"),
        ]
    )
    await repository.save(meeting, context=SEEDER)
    return world, meeting


async def count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def test_a_forum_with_a_rule_in_force_names_it_for_every_meeting_decision(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> None:
    world, meeting = await a_meeting(repository)
    rule = await seed_decision_rule(world)
    url, amina = f"/meetings/{meeting.id}", await issue.headers("leader", world.id("amina"))
    before = await count(pool)

    unnamed = await client.post(f"{url}/decisions", json={"text": "Open Sundays"}, headers=amina)
    unknown = await client.post(
        f"{url}/decisions",
        json={"text": "Open Sundays", "decision_rule_id": str(uuid.uuid4())},
        headers=amina,
    )
    minutes = await client.post(
        f"{url}/minutes", json={"decisions": [{"text": "Open Sundays"}]}, headers=amina
    )

    assert unnamed.status_code == 422, unnamed.text
    assert unnamed.json()["errors"] == [
        {"field": "decision_rule_id", "message": "must name the forum's decision rule in force"}
    ]
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == (
        "decision_rule_id"
    )
    assert minutes.status_code == 422, minutes.text
    [item] = minutes.json()["items"]
    assert (item["list"], item["index"], item["field"]) == ("decisions", 0, "decision_rule_id")
    assert minutes.json()["errors"][0]["field"] == "decisions[0].decision_rule_id"
    assert await count(pool) == before

    named = {"text": "Open Sundays", "decision_rule_id": str(rule.id)}
    decided = await client.post(f"{url}/decisions", json=named, headers=amina)
    assert decided.status_code == 200, decided.text
    [recorded] = (await client.get(url, headers=amina)).json()["decisions"]
    assert recorded["decision"] == {
        "rule": "Consent of members present",
        "rule_id": str(rule.id),
        "rule_version": rule.version,
        "present": [str(world.id("amina")), str(world.id("ben"))],
        "consented_by": [],
    }


async def test_a_forum_with_no_rule_yet_decides_under_none_or_by_bootstrap_consent(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world, meeting = await a_meeting(repository)
    url, amina = f"/meetings/{meeting.id}", await issue.headers("leader", world.id("amina"))
    present = [str(world.id("amina")), str(world.id("ben"))]
    consent: dict[str, Any] = {"bootstrap": "consent", "consented_by": present}

    plain = await client.post(f"{url}/decisions", json={"text": "Meet monthly"}, headers=amina)
    partial = await client.post(
        f"{url}/decisions",
        json={"text": "Adopt consent", "bootstrap": "consent", "consented_by": present[:1]},
        headers=amina,
    )
    consented = await client.post(
        f"{url}/minutes", json={"decisions": [{"text": "Adopt consent"} | consent]}, headers=amina
    )

    assert plain.status_code == 200, plain.text
    assert partial.status_code == 422 and partial.json()["errors"][0]["field"] == "consented_by"
    assert consented.status_code == 200, consented.text
    recorded = (await client.get(url, headers=amina)).json()["decisions"]
    assert [(d["text"], d["decision"]) for d in recorded] == [
        ("Meet monthly", None),
        (
            "Adopt consent",
            {
                "rule": "bootstrap consent",
                "rule_id": None,
                "rule_version": None,
                "present": present,
                "consented_by": present,
            },
        ),
    ]
