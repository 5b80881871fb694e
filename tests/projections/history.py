"""A random but always valid history, generated through the domain itself."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta

from tracker.application.ports import Context
from tracker.domain import Commitment, DomainError, Forum, Leader, Organisation, Purpose
from tracker.eventstore.repository import Repository

CTX = Context(actor="system:history")
TODAY = date(2026, 11, 26)


class History:
    """Aggregates kept in memory as the independent model of what the views should say."""

    def __init__(self, seed: int, leaders: int = 30, forums: int = 4) -> None:
        self.rng = random.Random(seed)
        self.organisations = [
            Organisation.register(uuid.uuid4(), f"Org {i}", "council") for i in range(6)
        ]
        self.leaders = []
        for i in range(leaders):
            leader = Leader.register(uuid.uuid4(), f"Leader {i}", None)
            org = self.rng.choice(self.organisations)
            leader.record_affiliation(org.id, "Director", date(2020, 1, 1))
            self.leaders.append(leader)
        self.forums = []
        self.purposes = []
        for i in range(forums):
            members = self.rng.sample(self.leaders, 8)
            forum = Forum.convene(uuid.uuid4(), f"Forum {i}", members[0].id)
            for m in members[1:]:
                forum.join(m.id)
            self.forums.append((forum, [m.id for m in members]))
            for j in range(3):
                self.purposes.append(
                    (
                        forum.id,
                        Purpose.propose(uuid.uuid4(), forum.id, f"Purpose {i}.{j}", members[0].id),
                    )
                )
        self.commitments: list[Commitment] = []
        self.pending: list[object] = [
            *self.organisations,
            *self.leaders,
            *(f for f, _ in self.forums),
            *(p for _, p in self.purposes),
        ]

    def step(self) -> None:
        """One random command: make a commitment, or move one along its lifecycle."""
        rng = self.rng
        if not self.commitments or rng.random() < 0.25:
            forum, members = rng.choice(self.forums)
            owner, by = rng.choice(members), rng.choice(members)
            purposes = [p.id for f, p in self.purposes if f == forum.id]
            due = TODAY + timedelta(days=rng.randint(1, 60)) if rng.random() < 0.8 else None
            c = Commitment.make(
                uuid.uuid4(),
                forum_id=forum.id,
                owner_id=owner,
                by=by,
                description="Do a thing",
                purpose_ids=rng.sample(purposes, 1),
                made_on=TODAY,
                due_on=due,
            )
            self.commitments.append(c)
            self.pending.append(c)
            return
        c = rng.choice(self.commitments)
        members = next(m for f, m in self.forums if f.id == c.forum_id)
        who = rng.choice([c.owner_id, c.requester_id or c.owner_id, rng.choice(members)])
        later = (c.due_on or TODAY) + timedelta(days=rng.randint(1, 20))
        purposes = [p.id for f, p in self.purposes if f == c.forum_id]
        actions: list[Callable[[], None]] = [
            lambda: c.accept(who),
            lambda: c.decline(who, "no capacity"),
            lambda: c.report_progress(who, rng.randint(0, 100), "update"),
            lambda: c.renegotiate(who, "slipped", later),
            lambda: c.agree_renegotiation(who),
            lambda: c.offer_handover(who, rng.choice(members)),
            lambda: c.accept_handover(who),
            lambda: c.release(who, "cannot"),
            lambda: c.complete(who),
            lambda: c.acknowledge(who),
            lambda: c.dispute(who, "not yet"),
            lambda: c.reopen(who),
            lambda: c.comment(who, "noted"),
            lambda: c.counter_offer(who, later),
            lambda: c.accept_counter_offer(who),
            lambda: c.link_purpose(who, rng.choice(purposes)),
            lambda: c.unlink_purpose(who, rng.choice(list(c.purpose_ids))),
        ]
        try:
            rng.choice(actions)()
        except DomainError:
            return
        if c not in self.pending:
            self.pending.append(c)

    async def flush(self, repository: Repository) -> int:
        """Save every aggregate with new events, in one atomic append; return its last position."""
        pending, self.pending = self.pending, []
        if not pending:
            return 0
        saved = await repository.save(*pending, context=CTX)  # type: ignore[arg-type]
        return max(e.position for e in saved.events)
