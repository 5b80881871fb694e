"""Who sees which leaders and forums in the directory lists, and whose emails."""

from __future__ import annotations

import asyncpg
import pytest

from tests.api.directory_world import Client, Directory
from tracker.eventstore.repository import Repository

EVERYONE = ["Amina", "Ben", "Chloe", "Dara", "Eve", "Finn"]
BOTH = ["Warm spaces", "Youth partnership"]


@pytest.fixture
async def d(client: Client, repository: Repository, pool: asyncpg.Pool) -> Directory:
    world = Directory(client, repository, pool)
    await world.seed()
    return world


@pytest.mark.parametrize(
    ("who", "leaders", "forums"),
    [
        ("admin", EVERYONE, BOTH),
        ("auditor", EVERYONE, BOTH),
        ("integration", EVERYONE, BOTH),
        ("limited_a", ["Amina", "Ben", "Chloe"], ["Warm spaces"]),
        ("limited_b", ["Chloe", "Dara"], ["Youth partnership"]),
        ("amina", ["Amina", "Ben", "Chloe"], ["Warm spaces"]),
        ("chloe", ["Amina", "Ben", "Chloe", "Dara"], BOTH),
        ("dara", ["Chloe", "Dara"], ["Youth partnership"]),
        ("eve", ["Eve"], []),
        ("finn", ["Finn"], []),
    ],
)
async def test_each_caller_sees_the_leaders_and_forums_of_their_forums(
    d: Directory, who: str, leaders: list[str], forums: list[str]
) -> None:
    assert await d.names("/leaders", who) == leaders
    assert await d.names("/forums", who) == forums


@pytest.mark.parametrize("who", ["dara", "limited_b", "eve", "finn"])
async def test_a_filter_naming_a_forum_the_caller_cannot_see_finds_nothing(
    d: Directory, who: str
) -> None:
    a = str(d.forums["a"].id)
    # Chloe belongs to both forums: seen through B, she must not show up as a member of A.
    assert await d.names("/leaders", who, forum_id=a) == []
    assert await d.names("/forums", who, source_system="x", external_id="y") == []


async def test_a_forum_filter_lists_the_members_of_a_forum_the_caller_sees(d: Directory) -> None:
    a, b = str(d.forums["a"].id), str(d.forums["b"].id)
    assert await d.names("/leaders", "chloe", forum_id=a) == ["Amina", "Ben", "Chloe"]
    assert await d.names("/leaders", "chloe", forum_id=b) == ["Chloe", "Dara"]
    assert await d.names("/leaders", "admin", forum_id=b) == ["Chloe", "Dara"]
    assert await d.names("/leaders", "limited_a", forum_id=a) == ["Amina", "Ben", "Chloe"]


async def test_everyone_lists_every_organisation(d: Directory) -> None:
    every = ["Northgate NHS Trust", "old town trust", "Riverside Council"]
    for who in ("eve", "dara", "limited_b", "auditor"):
        assert await d.names("/organisations", who) == every


async def test_emails_show_to_the_leader_stewards_of_their_forums_auditors_and_admins(
    d: Directory,
) -> None:
    async def emails(who: str) -> dict[str, str | None]:
        page = await d.get("/leaders", who)
        return {item["name"]: item["email"] for item in page["items"]}

    assert await emails("admin") == {n: f"{n.lower()}@Example.org" for n in EVERYONE}
    # Amina convenes and Ben records forum A; Chloe only belongs to it.
    a_emails = {n: f"{n.lower()}@Example.org" for n in ("Amina", "Ben", "Chloe")}
    assert await emails("amina") == a_emails
    assert await emails("ben") == a_emails
    assert await emails("chloe") == {
        "Amina": None, "Ben": None, "Chloe": "chloe@Example.org", "Dara": None
    }  # fmt: skip
    assert set((await emails("integration")).values()) == {None}


async def test_the_email_filter_finds_only_emails_the_caller_sees(d: Directory) -> None:
    assert await d.names("/leaders", "amina", email="CHLOE@example.org") == ["Chloe"]
    assert await d.names("/leaders", "admin", email="dara@example.ORG") == ["Dara"]
    # Chloe sees Dara as a member of forum B, but not her email: no search confirms it.
    assert await d.names("/leaders", "chloe", email="dara@example.org") == []
    assert await d.names("/leaders", "integration", email="dara@example.org") == []
