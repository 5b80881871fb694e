"""The world every access cell runs in: two forums, a leader in each relationship, every caller."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.seed import SEEDER
from tests.clock import Clock
from tracker import tokens
from tracker.domain import Agreement, Forum, Leader, Organisation, Purpose
from tracker.domain.forum import RECORDER
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS_AT = "2026-12-03T18:00:00+00:00"
# Forum A's leaders by the relationship the table names them by; forum B has its own.
IN_A = {
    "convenor": "amina",
    "owner": "ben",
    "requester": "chloe",
    "member": "dara",
    "steward": "sam",
    "departed": "finn",
    "deactivated": "gus",
}
IN_B = {"other_forum": "eve", "b_convenor": "dev"}


class World:
    """Forum A with a leader per relationship, forum B beside it, and a header set per column."""

    def __init__(self, client: Client, pool: asyncpg.Pool, clock: Clock) -> None:
        self.client, self.pool, self.clock = client, pool, clock
        self.leaders: dict[str, Leader] = {}
        self.organisations: dict[str, Organisation] = {}
        self.forums: dict[str, Forum] = {}
        self.purposes: dict[str, Purpose] = {}
        self.rule: Agreement | None = None
        self.h: dict[str, dict[str, str]] = {}

    def id(self, role: str) -> str:
        """The id of the leader in a relationship (or a leader of forum B, by its key)."""
        return str(self.leaders[role].id)

    def forum(self, name: str = "a") -> str:
        return str(self.forums[name].id)

    def purpose(self, name: str = "a") -> str:
        return str(self.purposes[name].id)

    def decision(self) -> dict[str, str]:
        """A decision under forum A's rule in force, as an adoption's body names it."""
        assert self.rule is not None
        return {"decision_rule_id": str(self.rule.id)}

    async def post(self, path: str, json: Any, by: str, **headers: str) -> Any:
        r = await self.client.post(path, json=json, headers=self.h[by] | headers)
        assert r.status_code in (200, 201), (path, by, r.text)
        return r.json()

    async def created(self, path: str, json: Any, by: str, **headers: str) -> str:
        return str((await self.post(path, json, by, **headers))["stream_id"])

    async def position(self) -> int:
        return int(await self.pool.fetchval("SELECT coalesce(max(position), 0) FROM events"))

    async def footprint(self) -> tuple[Any, ...]:
        """What a refused request must leave unchanged: the log, the tokens, the subscriptions."""
        events = await self.pool.fetchrow(
            "SELECT count(*), coalesce(max(position), 0), coalesce(max(version), 0) FROM events"
        )
        token_rows = await self.pool.fetch(
            "SELECT id, kind, revoked_at, expires_at FROM api_tokens ORDER BY id"
        )
        subscriptions = await self.pool.fetchrow(
            """
            SELECT (SELECT count(*) FROM subscriptions),
                   (SELECT coalesce(sum(version), 0) FROM subscriptions),
                   (SELECT count(*) FROM subscription_queue WHERE dead_at IS NOT NULL)
            """
        )
        return tuple(events), tuple(tuple(t) for t in token_rows), tuple(subscriptions)


def _leader(world: World, key: str) -> Leader:
    org = Organisation.register(uuid.uuid4(), f"{key.title()} Council", "council")
    leader = Leader.register(uuid.uuid4(), key.title(), f"{key}@example.org")
    leader.record_affiliation(org.id, "Director", date(2020, 1, 1))
    world.organisations[key], world.leaders[key] = org, leader
    return leader


async def seed(world: World, repository: Repository) -> World:
    """Both forums through the domain, then a token per column of the access table."""
    for role in (*IN_A, *IN_B):
        _leader(world, role)
    a = Forum.convene(uuid.uuid4(), "Warm spaces partnership", world.leaders["convenor"].id)
    for role in ("owner", "requester", "member", "steward", "departed", "deactivated"):
        a.join(world.leaders[role].id)
    a.appoint_steward(world.leaders["steward"].id, RECORDER)
    a.leave(world.leaders["departed"].id)
    world.leaders["deactivated"].deactivate("Left public service")
    b = Forum.convene(uuid.uuid4(), "Food partnership", world.leaders["b_convenor"].id)
    b.join(world.leaders["other_forum"].id)
    convenor = world.leaders["convenor"].id
    world.forums = {"a": a, "b": b}
    world.purposes = {
        "a": Purpose.propose(uuid.uuid4(), a.id, "Nobody is cold this winter", convenor),
        "a2": Purpose.propose(uuid.uuid4(), a.id, "Nobody is lonely this winter", convenor),
    }
    # Forum A decides by a rule adopted by the consent of its members.
    world.rule = Agreement.propose(
        uuid.uuid4(), "forum", a.id, "decision_rule", "Consent", "No reasoned objection", convenor
    )
    consent = Decision(BOOTSTRAP_CONSENT, consented_by=tuple(sorted(a.members)))
    world.rule.adopt(consent, forum_has_decision_rule=False)
    a.adopt_decision_rule(world.rule.id)
    await repository.save(
        *world.organisations.values(),
        *world.leaders.values(),
        a,
        b,
        *world.purposes.values(),
        world.rule,
        context=SEEDER,
    )
    await _tokens(world)
    return world


async def _tokens(world: World) -> None:
    """A header set per column; revoked and expired tokens are an admin's, refused all the same."""
    pool = world.pool

    async def bearer(kind: str, leader: str | None = None, **extra: Any) -> dict[str, str]:
        leader_id = world.leaders[leader].id if leader else None
        token = await tokens.issue(pool, f"access-{kind}", kind, leader_id, **extra)
        return {"Authorization": f"Bearer {token}"}

    world.h["anonymous"] = {}
    for kind in ("admin", "auditor", "integration"):
        world.h[kind] = await bearer(kind)
    world.h["limited_here"] = await bearer("integration", forum_ids=[world.forums["a"].id])
    world.h["limited_other"] = await bearer("integration", forum_ids=[world.forums["b"].id])
    for role in (*IN_A, *IN_B):
        world.h[role] = await bearer("leader", role)
    world.h["revoked"] = await bearer("admin")
    revoked = await pool.fetchval(
        "SELECT id FROM api_tokens WHERE token_hash = $1",
        tokens.digest(world.h["revoked"]["Authorization"].removeprefix("Bearer ")),
    )
    assert await tokens.revoke(pool, revoked)
    world.h["expired"] = await bearer("admin", expires_at=world.clock() - timedelta(minutes=1))
