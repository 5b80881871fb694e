"""Seed aggregates straight through the domain and repository, for tests of one resource."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from tracker.application.ports import Context
from tracker.domain import Agreement, Forum, Leader, Organisation, Purpose
from tracker.domain.values import BOOTSTRAP_CONSENT, Decision
from tracker.eventstore.repository import Repository

SEEDER = Context(actor="system:test-seed")


@dataclass
class World:
    """A small forum: a convenor, members, organisations and one purpose."""

    repository: Repository
    organisations: dict[str, Organisation] = field(default_factory=dict)
    leaders: dict[str, Leader] = field(default_factory=dict)
    forum: Forum | None = None
    purpose: Purpose | None = None

    def id(self, name: str) -> uuid.UUID:
        """A leader's id by name."""
        return self.leaders[name].id


async def seed_world(
    repository: Repository, members: tuple[str, ...] = ("amina", "ben", "chloe")
) -> World:
    """An organisation per member; the first convenes a forum the rest joined; one purpose."""
    world = World(repository)
    for name in members:
        org = Organisation.register(uuid.uuid4(), f"{name.title()} Council", "council")
        leader = Leader.register(uuid.uuid4(), name.title(), f"{name}@example.org")
        leader.record_affiliation(org.id, "Director", date(2020, 1, 1))
        world.organisations[name] = org
        world.leaders[name] = leader
    forum = Forum.convene(uuid.uuid4(), "Warm spaces partnership", world.id(members[0]))
    for name in members[1:]:
        forum.join(world.id(name))
    purpose = Purpose.propose(
        uuid.uuid4(), forum.id, "Nobody is cold this winter", world.id(members[0])
    )
    world.forum, world.purpose = forum, purpose
    await repository.save(
        *world.organisations.values(), *world.leaders.values(), forum, purpose, context=SEEDER
    )
    return world


async def seed_decision_rule(world: World, title: str = "Consent of members present") -> Agreement:
    """The forum's first decision rule, adopted by the bootstrap consent of every member."""
    forum = world.forum
    assert forum is not None
    convenor = next(iter(world.leaders.values())).id
    rule = Agreement.propose(
        uuid.uuid4(),
        "forum",
        forum.id,
        "decision_rule",
        title,
        "No reasoned objection",
        convenor,
    )
    members = tuple(sorted(forum.members))
    rule.adopt(Decision(BOOTSTRAP_CONSENT, consented_by=members), forum_has_decision_rule=False)
    forum.adopt_decision_rule(rule.id)
    await world.repository.save(rule, forum, context=SEEDER)
    return rule
