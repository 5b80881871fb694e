"""The meeting view and the meeting resource list at most a fixed number of leaders and
changes, and count them in full."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.api.test_meeting_view import held, made_at
from tests.clock import Clock
from tracker.application import bounds
from tracker.domain import Attendance, Meeting
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
N = bounds.ATTENDANCE + 1


async def crowded(repository: Repository, clock: Clock) -> tuple[World, Meeting, Any, int]:
    """A meeting with N attending, N sending apologies, N invited, and a commitment from the
    previous meeting changed CHANGES + 1 times since."""
    world = await seed_world(repository)
    assert world.forum is not None
    ben = world.id("ben")
    before = held(world, "October", -timedelta(days=30))
    meeting = held(world, "November", timedelta(hours=1))  # the changes come before it
    came = sorted(uuid.uuid4() for _ in range(N))
    sorry = sorted(uuid.uuid4() for _ in range(N))
    meeting.invite([*came, *sorry])
    meeting.record_attendance(
        [Attendance(i, "attended") for i in came] + [Attendance(i, "apologies") for i in sorry]
    )
    carried = made_at(world, before, ben, ben)
    await repository.save(before, meeting, carried, context=SEEDER)
    for percent in range(1, bounds.CHANGES + 2):
        clock.advance(seconds=1)
        carried.report_progress(ben, percent)
    saved = await repository.save(carried, context=SEEDER)
    return world, meeting, (came, sorry), saved.events[-1].position


async def test_the_view_lists_the_first_leaders_and_latest_changes_and_counts_all(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world, meeting, (came, sorry), at = await crowded(repository, clock)
    amina = await issue.headers("leader", world.id("amina"))

    r = await client.get(f"/meetings/{meeting.id}/view?min_position={at}", headers=amina)

    assert r.status_code == 200, r.text
    view = r.json()
    [group] = view["attendees"]
    assert [a["leader_id"] for a in group["attendees"]] == [str(i) for i in came[:-1]]
    assert [a["leader_id"] for a in view["apologies"]] == [str(i) for i in sorry[:-1]]
    assert (view["attendees_total"], view["apologies_total"]) == (N, N)
    [carried] = [c for group in view["since_previous"].values() for c in group]
    assert [c["progress"] for c in carried["changes"]] == list(range(2, bounds.CHANGES + 2))
    # Made within the window, then CHANGES + 1 progress reports.
    assert carried["changes_total"] == bounds.CHANGES + 2


async def test_the_meeting_lists_the_first_leaders_and_counts_all(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    world, meeting, (came, sorry), _ = await crowded(repository, clock)
    amina = await issue.headers("leader", world.id("amina"))

    r = await client.get(f"/meetings/{meeting.id}", headers=amina)

    assert r.status_code == 200, r.text
    got = r.json()
    everyone = sorted([*came, *sorry])
    assert got["invited"] == [str(i) for i in everyone[: bounds.ATTENDANCE]]
    # Attendance in the order recorded: every attendee, then the first who sent apologies.
    recorded = [*came, *sorry][: bounds.ATTENDANCE]
    assert [a["leader_id"] for a in got["attendance"]] == [str(i) for i in recorded]
    assert (got["invited_total"], got["attendance_total"]) == (2 * N, 2 * N)


async def test_the_meeting_lists_the_first_decisions_and_counts_all(
    client: Client, issue: Tokens, repository: Repository
) -> None:
    world = await seed_world(repository)
    meeting = held(world, "November", timedelta(hours=1))  # the changes come before it
    for n in range(bounds.DECISIONS + 1):
        meeting.record_decision(uuid.uuid4(), f"Decision {n}")
    await repository.save(meeting, context=SEEDER)
    amina = await issue.headers("leader", world.id("amina"))

    got = (await client.get(f"/meetings/{meeting.id}", headers=amina)).json()

    texts = [d["text"] for d in got["decisions"]]
    assert texts == [f"Decision {n}" for n in range(bounds.DECISIONS)]
    assert got["decisions_total"] == bounds.DECISIONS + 1
