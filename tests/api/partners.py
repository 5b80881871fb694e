"""Two partnerships sharing the service, one of each resource in the first, and every caller."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import World, seed_world
from tracker import tokens
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS_AT = "2026-12-03T18:00:00+00:00"


class Partners:
    """Forum A (amina convenes; ben, chloe) with a commitment, meeting and agreements; forum B
    (dev convenes; eve); a header set per caller, including integrations limited to A or B."""

    def __init__(self, client: Client, pool: asyncpg.Pool, a: World, b: World) -> None:
        self.client, self.pool, self.a, self.b = client, pool, a, b
        self.h: dict[str, dict[str, str]] = {}
        self.ids: dict[str, str] = {}

    def leader(self, name: str) -> str:
        world = self.a if name in self.a.leaders else self.b
        return str(world.id(name))

    async def post(self, path: str, json: Any, by: str, **headers: str) -> Any:
        return await self.client.post(path, json=json, headers=self.h[by] | headers)

    async def get(self, path: str, by: str, **params: str) -> Any:
        return await self.client.get(path, headers=self.h[by], params=params)

    async def created(self, path: str, json: Any, by: str) -> str:
        r = await self.post(path, json, by)
        assert r.status_code == 201, r.text
        return str(r.json()["stream_id"])

    async def events(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM events"))

    async def version(self, stream_id: str) -> int:
        """A stream's version in the log itself."""
        query = "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1"
        return int(await self.pool.fetchval(query, uuid.UUID(stream_id)))

    def forum_a(self) -> str:
        assert self.a.forum is not None
        return str(self.a.forum.id)

    def purpose_a(self) -> str:
        assert self.a.purpose is not None
        return str(self.a.purpose.id)

    def commitment_body(self, owner: str = "ben", **extra: Any) -> dict[str, Any]:
        return {
            "forum_id": self.forum_a(),
            "owner_id": self.leader(owner),
            "description": "Open the library as a warm space on weekday evenings",
            "purpose_ids": [self.purpose_a()],
        } | extra

    def agreement_body(self, scope: str = "forum", **extra: Any) -> dict[str, Any]:
        return {
            "scope": scope,
            "scope_id": self.forum_a() if scope == "forum" else self.purpose_a(),
            "kind": "decision_rule" if scope == "forum" else "expectation",
            "title": "How we decide",
            "text": "By consent of the members present",
        } | extra


async def partners(
    client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool
) -> Partners:
    """Both forums seeded, the first's resources made through the API, every caller's token."""
    p = Partners(
        client, pool, await seed_world(repository), await seed_world(repository, ("dev", "eve"))
    )
    for world in (p.a, p.b):
        for name in world.leaders:
            p.h[name] = await issue.headers("leader", world.id(name))
    for kind in ("auditor", "admin", "integration"):
        p.h[kind] = await issue.headers(kind)
    for name, world in (("limited-a", p.a), ("limited-b", p.b)):
        assert world.forum is not None
        token = await tokens.issue(pool, name, "integration", None, [world.forum.id])
        p.h[name] = {"Authorization": f"Bearer {token}"}
    p.ids["forum"] = p.forum_a()
    p.ids["purpose"] = p.purpose_a()
    p.ids["commitment"] = await p.created("/commitments", p.commitment_body(), "ben")
    meeting = {"forum_id": p.forum_a(), "title": "December board", "starts_at": STARTS_AT}
    p.ids["meeting"] = await p.created("/meetings", meeting, "amina")
    p.ids["agreement"] = await p.created("/agreements", p.agreement_body(), "ben")
    p.ids["purpose-agreement"] = await p.created("/agreements", p.agreement_body("purpose"), "ben")
    return p
