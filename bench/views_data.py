"""A realistic store for the views benchmark, generated through the domain so it is valid.

10,000 leaders, 200 forums, 1,000 purposes, 20,000 meetings and 150,000 commitments with their
lifecycles: about 1,000,000 events. One leader has 50 open commitments and one purpose has 500
commitments, the cases the benchmark reads.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from eventsourcing.domain import Aggregate

from tracker.application.external import reference_id
from tracker.application.ports import Context
from tracker.domain import (
    Attendance,
    Commitment,
    Forum,
    Leader,
    Meeting,
    Organisation,
    Purpose,
)

CTX = Context(actor="system:bench", source="bench/views_data.py")
# Commitment i has the id an integration recording it as "case-<i>" of this system gets.
CASE_SYSTEM = "case-system"
TODAY = date(2026, 11, 26)


class Store:
    """The generated world, with the ids the benchmark reads."""

    def __init__(self, scale: float = 1.0, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.n_leaders = int(10_000 * scale)
        self.n_forums = max(2, int(200 * scale))
        self.n_purposes = max(2, int(1_000 * scale))
        self.n_meetings = int(20_000 * scale)
        self.n_commitments = int(150_000 * scale)
        self.busy_leader: uuid.UUID | None = None
        self.busy_purpose: uuid.UUID | None = None
        self.busy_forum: uuid.UUID | None = None

    def batches(self, size: int = 400) -> Iterator[list[Aggregate]]:
        """Aggregates in creation order, a batch at a time (each batch is one append)."""
        rng = self.rng
        organisations = [
            Organisation.register(uuid.uuid4(), f"Organisation {i}", "council") for i in range(300)
        ]
        yield list(organisations)
        leaders = []
        for i in range(self.n_leaders):
            leader = Leader.register(uuid.uuid4(), f"Leader {i}", f"leader{i}@example.org")
            leader.record_affiliation(rng.choice(organisations).id, "Director", date(2020, 1, 1))
            leaders.append(leader)
        yield from _chunks(leaders, size)
        forums, members = [], {}
        for i in range(self.n_forums):
            chosen = rng.sample(leaders, 50)
            forum = Forum.convene(uuid.uuid4(), f"Forum {i}", chosen[0].id)
            for leader in chosen[1:]:
                forum.join(leader.id)
            forums.append(forum)
            members[forum.id] = [x.id for x in chosen]
        yield from _chunks(forums, size)
        self.busy_forum = forums[0].id
        self.busy_leader = members[forums[0].id][1]
        purposes = []
        for i in range(self.n_purposes):
            forum = forums[i % len(forums)]
            purposes.append(
                Purpose.propose(uuid.uuid4(), forum.id, f"Purpose {i}", members[forum.id][0])
            )
        yield from _chunks(purposes, size)
        self.busy_purpose = purposes[0].id
        by_forum: dict[uuid.UUID, list[Purpose]] = {}
        for p in purposes:
            by_forum.setdefault(p.forum_id, []).append(p)
        meetings = []
        start = datetime(2026, 1, 5, 10, tzinfo=UTC)
        for i in range(self.n_meetings):
            forum = forums[i % len(forums)]
            meeting = Meeting.schedule(
                uuid.uuid4(), forum.id, f"Meeting {i}", start + timedelta(days=i // len(forums))
            )
            people = rng.sample(members[forum.id], 8)
            meeting.open()
            meeting.record_attendance([Attendance(p, "attended") for p in people])
            meeting.record_decision(uuid.uuid4(), "Agreed to pool rotas")
            meetings.append(meeting)
            if len(meetings) == size:
                yield meetings
                meetings = []
        yield meetings
        batch: list[Aggregate] = []
        for i in range(self.n_commitments):
            if i < 500:  # the busy purpose's 500 commitments
                forum_id, purpose = self.busy_forum, by_forum[self.busy_forum][0]
            else:
                forum = rng.choice(forums)
                forum_id, purpose = forum.id, rng.choice(by_forum[forum.id])
            people = members[forum_id]
            owner = self.busy_leader if i < 50 else rng.choice(people)
            made_on = TODAY - timedelta(days=rng.randint(0, 60))
            c = Commitment.make(
                # Recorded by a case system, as an integration posting with a reference would.
                reference_id(CASE_SYSTEM, f"case-{i}"),
                forum_id=forum_id,
                owner_id=owner,
                by=owner,
                description="Open the library as a warm space on weekday evenings",
                purpose_ids=[purpose.id],
                made_on=made_on,
                due_on=made_on + timedelta(days=rng.randint(0, 80)),
            )
            _lifecycle(c, owner, rng, keep_open=i < 50)
            batch.append(c)
            if len(batch) == size:
                yield batch
                batch = []
        yield batch


def _lifecycle(c: Commitment, owner: uuid.UUID, rng: random.Random, keep_open: bool) -> None:
    """A plausible life: progress reports, sometimes a renegotiation, often an ending."""
    for percent in sorted(rng.sample(range(5, 95), rng.randint(2, 6))):
        c.report_progress(owner, percent, "update")
    if rng.random() < 0.3:
        c.comment(owner, "Venue confirmed for Tuesdays")
    if rng.random() < 0.2:
        c.renegotiate(owner, "slipped", (c.due_on or TODAY) + timedelta(days=14))
    if keep_open:
        return
    ending = rng.random()
    if ending < 0.4:
        c.complete(owner)
    elif ending < 0.5:
        c.release(owner, "funding ended")


def _chunks(items: list[Aggregate], size: int) -> Iterator[list[Aggregate]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
