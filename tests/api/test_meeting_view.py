"""The meeting view through the real app: attendance, decisions, commitments, and what changed
since the previous meeting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.clock import START, Clock
from tracker.domain import AffiliationSnapshot, Attendance, Commitment, Leader, Meeting
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
# Events carry the real time they happened, so meetings are placed around it.
# The meetings are laid out around the tests' clock, which the app reads too.
NOW = START


@dataclass
class History:
    """The seeded world with Dana, an unaffiliated member, and the forum's meetings."""

    world: World
    dana: Leader
    meetings: dict[str, Meeting]
    commitments: dict[str, Commitment]

    def snapshot(self, name: str) -> AffiliationSnapshot:
        org = self.world.organisations[name]
        return AffiliationSnapshot(org.id, org.name, "Director")


def made_at(world: World, meeting: Meeting, owner: uuid.UUID, by: uuid.UUID) -> Commitment:
    assert world.forum is not None and world.purpose is not None
    return Commitment.make(
        uuid.uuid4(),
        forum_id=world.forum.id,
        owner_id=owner,
        by=by,
        description="An action",
        purpose_ids=[world.purpose.id],
        made_on=(NOW - timedelta(days=90)).date(),
        meeting_id=meeting.id,
    )


def held(world: World, title: str, starts: timedelta) -> Meeting:
    """A meeting of the world's forum, opened."""
    assert world.forum is not None
    meeting = Meeting.schedule(uuid.uuid4(), world.forum.id, title, NOW + starts, "Town Hall")
    meeting.open()
    return meeting


async def a_forum_that_meets(repository: Repository, clock: Clock) -> tuple[History, int]:
    """Three meetings held a month apart, one cancelled between them, and one to come; each
    meeting's commitments recorded an hour after it began."""
    world = await seed_world(repository)
    assert world.forum is not None
    amina, ben, chloe = world.id("amina"), world.id("ben"), world.id("chloe")
    dana = Leader.register(uuid.uuid4(), "Dana")
    world.forum.join(dana.id)
    m = {
        "september": held(world, "September", -timedelta(days=60)),
        "october": held(world, "October", -timedelta(days=30)),
        "november": held(world, "November", -timedelta(hours=1)),
        "cancelled": Meeting.schedule(
            uuid.uuid4(), world.forum.id, "Extra", NOW - timedelta(days=10)
        ),
        "december": Meeting.schedule(
            uuid.uuid4(), world.forum.id, "December", NOW + timedelta(days=30)
        ),
    }
    m["cancelled"].cancel("nothing to discuss")
    clock.moment = NOW - timedelta(days=60, hours=-1)
    c = {"old": made_at(world, m["september"], ben, ben)}
    clock.moment = NOW - timedelta(days=30, hours=-1)
    c["moving"] = made_at(world, m["october"], ben, ben)
    c["done"] = made_at(world, m["october"], chloe, chloe)
    c["asked"] = made_at(world, m["october"], chloe, amina)
    clock.moment = NOW
    c["new"] = made_at(world, m["november"], dana.id, dana.id)
    forum = History(world, dana, m, c)
    m["november"].record_attendance(
        [
            Attendance(ben, "attended", forum.snapshot("ben")),
            Attendance(amina, "attended", forum.snapshot("amina")),
            Attendance(dana.id, "attended"),
            Attendance(chloe, "apologies", forum.snapshot("chloe")),
        ]
    )
    m["november"].record_decision(uuid.uuid4(), "Pool the volunteer rotas")
    await repository.save(dana, world.forum, *m.values(), *c.values(), context=SEEDER)
    clock.moment = NOW - timedelta(days=5)
    c["moving"].report_progress(ben, 50)
    c["done"].complete(chloe)
    saved = await repository.save(c["moving"], c["done"], context=SEEDER)
    clock.moment = NOW
    return forum, saved.events[-1].position


async def test_the_meeting_view_groups_attendees_and_what_changed_since_the_last_meeting(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    forum, _ = await a_forum_that_meets(repository, clock)
    world, m, c = forum.world, forum.meetings, forum.commitments
    amina = await issue.headers("leader", world.id("amina"))
    decided = await client.post(
        f"/meetings/{m['november'].id}/decisions", json={"text": "Open Saturdays"}, headers=amina
    )
    assert decided.status_code == 200, decided.text

    at = decided.json()["position"]
    response = await client.get(
        f"/meetings/{m['november'].id}/view?min_position={at}", headers=amina
    )

    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["title"], view["status"], view["location"]) == ("November", "open", "Town Hall")
    assert [
        (g["organisation_name"], [a["leader_id"] for a in g["attendees"]])
        for g in view["attendees"]
    ] == [
        ("Amina Council", [str(world.id("amina"))]),
        ("Ben Council", [str(world.id("ben"))]),
        ("unaffiliated", [str(forum.dana.id)]),
    ]
    assert view["attendees"][0]["attendees"][0]["title"] == "Director"
    assert view["attendees"][2]["organisation_id"] is None
    [apology] = view["apologies"]
    assert apology["leader_id"] == str(world.id("chloe"))
    assert apology["affiliation"]["organisation_name"] == "Chloe Council"
    assert [d["text"] for d in view["decisions"]] == ["Pool the volunteer rotas", "Open Saturdays"]
    assert [x["commitment_id"] for x in view["commitments_made"]] == [str(c["new"].id)]
    # The cancelled meeting in between does not count; the window opens when October began.
    assert view["previous_meeting"]["meeting_id"] == str(m["october"].id)
    since = view["since_previous"]
    assert {g: [x["commitment_id"] for x in items] for g, items in since.items() if items} == {
        "done": [str(c["done"].id)],
        "new": sorted([str(c["moving"].id), str(c["asked"].id)]),  # same moment: by id
        "still_open": [str(c["old"].id)],
    }
    moving = next(x for x in since["new"] if x["commitment_id"] == str(c["moving"].id))
    assert (moving["status"], moving["progress"]) == ("active", 50)
    assert [(ch["type"], ch["progress"]) for ch in moving["changes"]] == [
        ("commitment.made", None),
        ("commitment.progress_reported", 50),
    ]
    # September's commitment only stands open: nothing happened to it in the window.
    assert since["still_open"][0]["changes"] == []
    assert view["counts"] == {
        "decisions": 2,
        "commitments_made": 1,
        "done": 1,
        "changed_terms": 0,
        "handed_over": 0,
        "no_longer_pursued": 0,
        "new": 2,
        "still_open": 1,
        "overdue": 0,
    }


async def test_the_first_meeting_looks_back_on_nothing_made_after_it_began(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    forum, at = await a_forum_that_meets(repository, clock)
    meeting = forum.meetings["september"]

    response = await client.get(
        f"/meetings/{meeting.id}/view?min_position={at}", headers=await issue.headers("auditor")
    )

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["previous_meeting"] is None
    assert all(items == [] for items in view["since_previous"].values())
    assert view["attendees"] == [] and view["apologies"] == [] and view["decisions"] == []
    assert [x["commitment_id"] for x in view["commitments_made"]] == [
        str(forum.commitments["old"].id)
    ]


async def test_a_leader_outside_the_forum_is_refused_and_an_unknown_meeting_is_not_found(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    forum, _ = await a_forum_that_meets(repository, clock)
    outsider = Leader.register(uuid.uuid4(), "Eve")
    at = (await repository.save(outsider, context=SEEDER)).events[-1].position
    url = f"/meetings/{forum.meetings['october'].id}/view?min_position={at}"

    refused = await client.get(url, headers=await issue.headers("leader", outsider.id))
    missing = await client.get(
        f"/meetings/{uuid.uuid4()}/view", headers=await issue.headers("admin")
    )

    assert refused.status_code == 404, refused.text
    assert missing.status_code == 404, missing.text
    assert (await client.get(url)).status_code == 401


async def test_decisions_and_commitments_are_read_a_page_at_a_time_with_counts(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    forum, _ = await a_forum_that_meets(repository, clock)
    world, november, october = forum.world, forum.meetings["november"], forum.meetings["october"]
    ben = world.id("ben")
    for n in range(4):
        november.record_decision(uuid.uuid4(), f"Decision {n}")
    made = [made_at(world, november, ben, ben) for _ in range(4)]
    clock.moment = NOW - timedelta(days=30, hours=-2)
    carried = [made_at(world, october, ben, ben) for _ in range(4)]
    clock.moment = NOW
    saved = await repository.save(november, *made, *carried, context=SEEDER)
    url, auditor = f"/meetings/{november.id}/view", await issue.headers("auditor")
    params: dict[str, object] = {"min_position": saved.events[-1].position}

    async def get(**more: object) -> dict[str, object]:
        response = await client.get(url, params=params | more, headers=auditor)
        assert response.status_code == 200, response.text
        return dict(response.json())

    whole = await get(limit=200)
    counts = dict(whole["counts"])  # type: ignore[call-overload]
    assert (counts["decisions"], counts["commitments_made"], counts["new"]) == (5, 5, 6)

    def listed(view: dict[str, object], section: str) -> list[object]:
        lists = view if section in ("decisions", "commitments_made") else view["since_previous"]
        return list(lists[section])  # type: ignore[index]

    for section, key in [
        ("decisions", "decision_id"),
        ("commitments_made", "commitment_id"),
        ("new", "commitment_id"),
    ]:
        first = await get(limit=2)
        seen, pages = [x[key] for x in listed(first, section)], 1  # type: ignore[index]
        cursor = first["cursors"][section]  # type: ignore[index]
        while cursor is not None:
            page = await get(limit=2, section=section, cursor=cursor)
            assert page["section"] == section and page["counts"] == whole["counts"]
            others = {"decisions", "commitments_made", "done", "new", "still_open"} - {section}
            assert all(listed(page, o) == [] for o in others)
            seen += [x[key] for x in listed(page, section)]  # type: ignore[index]
            cursor, pages = page["cursors"][section], pages + 1  # type: ignore[index]
        assert seen == [x[key] for x in listed(whole, section)]  # type: ignore[index]
        assert pages == 3
    cursor = (await get(limit=2))["cursors"]["decisions"]  # type: ignore[index]
    for bad in (
        {"cursor": "nope"},
        {"cursor": cursor, "section": "new"},
        {"limit": 0},
        {"limit": 201},
    ):
        refused = await client.get(url, params=params | bad, headers=auditor)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] in ("cursor", "limit")
