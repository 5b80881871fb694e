"""Two forums and their people, seeded through the domain, for the directory's API tests."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.seed import SEEDER
from tracker import tokens
from tracker.domain import Forum, Leader, Organisation
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
# Forum A: amina convenes, ben records, chloe belongs; forum B: dara convenes, chloe belongs.
# eve belongs to no forum; finn left forum A.
PEOPLE = ("amina", "ben", "chloe", "dara", "eve", "finn")


class Directory:
    """Organisations, leaders and two forums, with a token for any caller."""

    def __init__(self, client: Client, repository: Repository, pool: asyncpg.Pool) -> None:
        self.client, self.repository, self.pool = client, repository, pool
        self.orgs: dict[str, Organisation] = {}
        self.leaders: dict[str, Leader] = {}
        self.forums: dict[str, Forum] = {}
        self.headers: dict[str, dict[str, str]] = {}

    async def seed(self) -> None:
        self.orgs = {
            "river": Organisation.register(uuid.uuid4(), "Riverside Council", "council"),
            "north": Organisation.register(uuid.uuid4(), "Northgate NHS Trust", "nhs"),
            "old": Organisation.register(uuid.uuid4(), "old town trust", "voluntary"),
        }
        self.orgs["old"].record_successor(self.orgs["river"].id)
        self.orgs["old"].archive("merged")
        for name in PEOPLE:
            self.leaders[name] = Leader.register(uuid.uuid4(), name.title(), f"{name}@Example.org")
        self.leaders["amina"].record_affiliation(
            self.orgs["river"].id, "Director", date(2020, 1, 1)
        )
        self.leaders["amina"].record_affiliation(self.orgs["north"].id, "Trustee", date(2021, 1, 1))
        self.leaders["ben"].record_affiliation(self.orgs["north"].id, "Nurse", date(2020, 1, 1))
        self.leaders["ben"].end_affiliation(self.orgs["north"].id, date(2025, 1, 1))
        self.leaders["dara"].record_affiliation(self.orgs["north"].id, "Chair", date(2020, 1, 1))
        a = Forum.convene(uuid.uuid4(), "Warm spaces", self.id("amina"))
        for name in ("ben", "chloe", "finn"):
            a.join(self.id(name))
        a.appoint_steward(self.id("ben"), "recorder")
        a.leave(self.id("finn"))
        b = Forum.convene(uuid.uuid4(), "Youth partnership", self.id("dara"), "Pacific/Auckland")
        b.join(self.id("chloe"))
        self.forums = {"a": a, "b": b}
        await self.repository.save(
            *self.orgs.values(), *self.leaders.values(), a, b, context=SEEDER
        )

    def id(self, name: str) -> uuid.UUID:
        return self.leaders[name].id

    async def as_(self, who: str) -> dict[str, str]:
        """Headers for a caller: a leader by name, admin, auditor, integration, or limited_a/b."""
        if who not in self.headers:
            forum_ids = None
            if who.startswith("limited_"):
                kind, forum_ids = "integration", [self.forums[who[-1]].id]
            elif who in ("admin", "auditor", "integration"):
                kind = who
            else:
                kind = "leader"
            leader = self.id(who) if kind == "leader" else None
            token = await tokens.issue(self.pool, f"test-{who}", kind, leader, forum_ids)
            self.headers[who] = {"Authorization": f"Bearer {token}"}
        return self.headers[who]

    async def position(self) -> int:
        return int(await self.pool.fetchval("SELECT coalesce(max(position), 0) FROM events"))

    async def get(self, path: str, who: str, expect: int = 200, **params: Any) -> Any:
        """A read once the directory has every event so far."""
        params.setdefault("min_position", await self.position())
        r = await self.client.get(path, params=params, headers=await self.as_(who))
        assert r.status_code == expect, r.text
        return r.json()

    async def names(self, path: str, who: str, **params: Any) -> list[str]:
        """The names one page lists (and it is the only page)."""
        page = await self.get(path, who, **params)
        assert page["next_cursor"] is None
        return [item["name"] for item in page["items"]]
