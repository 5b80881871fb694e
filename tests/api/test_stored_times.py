"""Views read times already stored beyond what Python holds without failing."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER
from tests.api.test_meeting_view import a_forum_that_meets
from tests.clock import Clock
from tests.decisions import RULED
from tracker.application.clock import today_in
from tracker.domain import Agreement, Meeting
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
# Both were accepted once: year 1 at +14:00 is year 0 in UTC, 9999 at -14:00 is year 10000.
YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
YEAR_9999 = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14)))


async def test_meetings_stored_beyond_datetimes_range_leave_every_meeting_view_readable(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    forum, _ = await a_forum_that_meets(repository, clock)
    world = forum.world
    assert world.forum is not None
    # Written straight through the repository, as the API once let through.
    early = Meeting.schedule(uuid.uuid4(), world.forum.id, "Long ago", YEAR_ONE)
    late = Meeting.schedule(uuid.uuid4(), world.forum.id, "Far off", YEAR_9999)
    deal = Agreement.propose(
        uuid.uuid4(), "forum", world.forum.id, "expectation", "Minutes", "Kept", world.id("amina")
    )
    deal.adopt(RULED, meeting_id=early.id)
    saved = await repository.save(early, late, deal, context=SEEDER)
    at = saved.events[-1].position
    auditor = await issue.headers("auditor")

    views = {}
    for meeting in [*forum.meetings.values(), early, late]:
        url = f"/meetings/{meeting.id}/view?min_position={at}"
        r = await client.get(url, headers=auditor)
        assert r.status_code == 200, r.text
        views[meeting.title] = r.json()

    # Shown at the nearest time Python holds; compared as stored.
    assert views["Long ago"]["starts_at"] == "0001-01-01T00:00:00Z"
    assert views["Far off"]["starts_at"] == "9999-12-31T23:59:59.999999Z"
    assert views["September"]["previous_meeting"]["meeting_id"] == str(early.id)
    assert views["September"]["previous_meeting"]["starts_at"] == "0001-01-01T00:00:00Z"
    assert views["Far off"]["previous_meeting"]["title"] == "December"
    assert views["November"]["previous_meeting"]["title"] == "October"

    register = await client.get(
        f"/forums/{world.forum.id}/agreements?min_position={at}", headers=auditor
    )
    assert register.status_code == 200, register.text
    [entry] = register.json()["agreements"]
    assert entry["adopted_meeting"]["starts_at"] == "0001-01-01T00:00:00Z"

    own = await client.get(f"/meetings/{early.id}", headers=auditor)
    assert own.status_code == 200 and own.json()["starts_at"] == "0001-01-01T00:00:00+14:00"
    past = await client.get(
        f"/meetings/{forum.meetings['september'].id}/view?as_of={at}", headers=auditor
    )
    assert past.status_code == 200, past.text


def test_today_at_the_ends_of_datetimes_range_is_the_date_as_written() -> None:
    assert today_in(lambda: YEAR_ONE, "Europe/London") == date(1, 1, 1)
    assert today_in(lambda: YEAR_9999, "Pacific/Kiritimati") == date(9999, 12, 31)
