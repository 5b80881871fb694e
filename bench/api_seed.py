"""The API benchmark's data: a forum of leaders with tokens, a purpose and commitments, and the
requests each run sends."""

from __future__ import annotations

import uuid
from datetime import date

from bench.baseline_app import INSERT, TABLE
from tracker import tokens
from tracker.application.ports import Context
from tracker.application.principal import ADMIN, LEADER
from tracker.database import create_pool
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Commitment, Forum, Leader, Purpose
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository

LEADERS, STREAMS = 8, 2000  # leaders with a token each; commitments to report progress on
SEEDER = Context(actor="system:bench")
Line = tuple[str, str, str, object]  # method, path, token, JSON body (None for none)


async def seed(url: str) -> dict[str, list[Line]]:
    """A forum of leaders with tokens and commitments; return each run's requests."""
    pool = await create_pool(url, size=2)
    repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
    leaders = [Leader.register(uuid.uuid4(), f"Leader {i}") for i in range(LEADERS)]
    forum = Forum.convene(uuid.uuid4(), "Warm spaces partnership", leaders[0].id)
    for leader in leaders[1:]:
        forum.join(leader.id)
    purpose = Purpose.propose(uuid.uuid4(), forum.id, "Nobody is cold this winter", leaders[0].id)
    await repository.save(*leaders, forum, purpose, context=SEEDER)
    token = {x.id: await tokens.issue(pool, "bench", LEADER, x.id) for x in leaders}
    admin = await tokens.issue(pool, "bench-admin", ADMIN)
    terms = {"forum_id": forum.id, "purpose_ids": [purpose.id], "made_on": date.today()}
    owners = [leaders[i % LEADERS].id for i in range(STREAMS + 1)]
    made = [
        Commitment.make(uuid.uuid4(), owner_id=o, by=o, description="Hub", **terms) for o in owners
    ]
    read, reported = made[0], made[1:]
    for percent in range(10, 100, 10):  # Made and 9 progress reports: 10 events
        read.report_progress(read.owner_id, percent, "on track")
    for start in range(0, len(made), 500):
        await repository.save(*made[start : start + 500], context=SEEDER)
    await pool.execute(TABLE)

    # A leader's commitment for themselves: the body of POST /commitments (and of the bare INSERT).
    body = {"forum_id": forum.id, "description": "Open a hub", "purpose_ids": [purpose.id]}
    make = {x.id: body | {"owner_id": x.id} for x in leaders}

    def progress(i: int, c: Commitment) -> Line:
        """A progress report with a note, so that progress may go down."""
        report = {"percent": i * 37 % 101, "note": "weekly check-in"}
        return ("POST", f"/commitments/{c.id}/progress-reports", token[c.owner_id], report)

    row = await pool.fetchval(INSERT, uuid.uuid4(), make[leaders[0].id])
    await pool.close()
    return {
        "hello": [("GET", "/hello", "", None)],
        "insert": [("POST", "/rows", "", make[leaders[0].id])],
        "select": [("GET", f"/rows/{row}", "", None)],
        "make": [("POST", "/commitments", token[x.id], make[x.id]) for x in leaders],
        "progress": [progress(i, c) for i, c in enumerate(reported)],
        "get": [("GET", f"/commitments/{read.id}", admin, None)],
    }
