"""The meetings API over a real database: scheduling, record-keeping, and every refusal."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tracker.domain import Leader, Organisation
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
STARTS_AT = "2026-12-03T18:00:00+00:00"


class Desk:
    """A seeded forum, a header set per caller, and shortcuts to the meetings API."""

    def __init__(
        self, client: Client, world: World, headers: dict[str, dict[str, str]], pool: asyncpg.Pool
    ) -> None:
        self.client, self.world, self.h, self.pool = client, world, headers, pool

    def id(self, name: str) -> str:
        return str(self.world.id(name))

    def schedule_body(self, **extra: Any) -> dict[str, Any]:
        assert self.world.forum is not None
        return {
            "forum_id": str(self.world.forum.id),
            "title": "December partnership board",
            "starts_at": STARTS_AT,
        } | extra

    async def schedule(self, by: str = "amina", **extra: Any) -> str:
        r = await self.client.post(
            "/meetings", json=self.schedule_body(**extra), headers=self.h[by]
        )
        assert r.status_code == 201, r.text
        return str(r.json()["stream_id"])

    async def do(self, by: str, mid: str, step: str, json: Any = None, **headers: str) -> Any:
        return await self.client.post(
            f"/meetings/{mid}/{step}", json=json, headers=self.h[by] | headers
        )

    async def opened(self) -> str:
        mid = await self.schedule()
        assert (await self.do("amina", mid, "opening")).status_code == 200
        return mid

    async def state(self, mid: str) -> dict[str, Any]:
        r = await self.client.get(f"/meetings/{mid}", headers=self.h["auditor"])
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def events(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM events"))


@pytest.fixture
async def desk(client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Desk:
    world = await seed_world(repository)
    headers = {name: await issue.headers("leader", world.id(name)) for name in world.leaders}
    headers["auditor"] = await issue.headers("auditor")
    headers["recorder"] = await issue.headers("integration", name="minutes-tool")
    headers["admin"] = await issue.headers("admin")
    headers["nobody"] = {}
    return Desk(client, world, headers, pool)


async def test_a_steward_schedules_a_meeting_and_reads_it_back(desk: Desk) -> None:
    r = await desk.client.post(
        "/meetings", json=desk.schedule_body(location="Town Hall"), headers=desk.h["amina"]
    )
    assert r.status_code == 201, r.text
    mid = r.json()["stream_id"]
    assert r.headers["location"] == f"/meetings/{mid}" and r.json()["version"] == 1
    got = await desk.client.get(f"/meetings/{mid}", headers=desk.h["ben"])
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    state = got.json()
    assert state["status"] == "scheduled" and state["title"] == "December partnership board"
    assert state["location"] == "Town Hall" and state["starts_at"].startswith("2026-12-03T18:00")
    assert (state["invited"], state["attendance"], state["decisions"]) == ([], [], [])
    assert state["record_version"] == 0


@pytest.mark.parametrize("by", ["admin", "recorder"])
async def test_an_admin_or_a_recorder_schedules_meetings_too(desk: Desk, by: str) -> None:
    mid = await desk.schedule(by)
    assert (await desk.state(mid))["location"] == ""


async def test_a_member_who_is_not_a_steward_cannot_schedule_a_meeting(desk: Desk) -> None:
    before = await desk.events()
    r = await desk.client.post("/meetings", json=desk.schedule_body(), headers=desk.h["ben"])
    assert r.status_code == 403 and r.json()["rule"] == "only-stewards-can-schedule-meetings"
    assert await desk.events() == before


async def test_scheduling_for_an_unknown_forum_names_the_field(desk: Desk) -> None:
    before = await desk.events()
    body = desk.schedule_body(forum_id=str(uuid.uuid4()))
    r = await desk.client.post("/meetings", json=body, headers=desk.h["amina"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "forum_id"
    assert await desk.events() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"agenda": "x"}, "agenda"),
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"starts_at": "next Tuesday"}, "starts_at"),
        ({"title": ["Board"]}, "title"),
        ({"starts_at": "2026-12-03T18:00:00"}, "starts_at"),
        ({"location": "\x00"}, "location"),
        ({"forum_id": "not-a-uuid"}, "forum_id"),
    ],
)
async def test_an_invalid_schedule_is_refused_naming_the_field(
    desk: Desk, change: dict[str, Any], field: str
) -> None:
    before = await desk.events()
    r = await desk.client.post(
        "/meetings", json=desk.schedule_body(**change), headers=desk.h["amina"]
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert await desk.events() == before


async def test_a_retried_scheduling_with_the_same_idempotency_key_returns_the_first_answer(
    desk: Desk,
) -> None:
    headers = desk.h["amina"] | {"Idempotency-Key": "board-dec"}
    first = await desk.client.post("/meetings", json=desk.schedule_body(), headers=headers)
    assert first.status_code == 201, first.text
    after_first = await desk.events()
    again = await desk.client.post("/meetings", json=desk.schedule_body(), headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert await desk.events() == after_first
    other = await desk.client.post(
        "/meetings", json=desk.schedule_body(title="Another"), headers=headers
    )
    assert other.status_code == 422 and "idempotency-key-reused" in other.json()["type"]


async def test_an_external_reference_fixes_the_meeting_id_and_a_resend_writes_nothing(
    desk: Desk,
) -> None:
    body = desk.schedule_body(source_system="minutes-tool", external_id="board-2026-12")
    first = await desk.client.post("/meetings", json=body, headers=desk.h["recorder"])
    assert first.status_code == 201, first.text
    after_first = await desk.events()
    again = await desk.client.post("/meetings", json=body, headers=desk.h["recorder"])
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["stream_id"] == first.json()["stream_id"]
    assert await desk.events() == after_first
    half = desk.schedule_body(external_id="board-2026-12")
    r = await desk.client.post("/meetings", json=half, headers=desk.h["recorder"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source_system"


async def test_an_unknown_meeting_is_not_found(desk: Desk) -> None:
    unknown = str(uuid.uuid4())
    assert (await desk.client.get(f"/meetings/{unknown}", headers=desk.h["ben"])).status_code == 404
    r = await desk.do("amina", unknown, "opening")
    assert r.status_code == 404, r.text


async def test_every_endpoint_needs_a_bearer_token(desk: Desk) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    assert (await desk.client.get(f"/meetings/{mid}")).status_code == 401
    assert (await desk.client.post("/meetings", json=desk.schedule_body())).status_code == 401
    for step in ("invitations", "attendance", "opening", "decisions", "record", "reopening"):
        assert (await desk.do("nobody", mid, step, {})).status_code == 401, step
    for step in ("cancellation", "minutes"):
        assert (await desk.do("nobody", mid, step, {})).status_code == 401, step
    assert await desk.events() == before


async def test_an_auditor_is_refused_every_write(desk: Desk) -> None:
    mid = await desk.opened()
    before = await desk.events()
    r = await desk.client.post("/meetings", json=desk.schedule_body(), headers=desk.h["auditor"])
    assert r.status_code == 403 and r.json()["rule"] == "auditors-only-read"
    writes: list[tuple[str, Any]] = [
        ("invitations", {"leader_ids": [desk.id("ben")]}),
        ("attendance", {"attendees": [{"leader_id": desk.id("ben"), "status": "attended"}]}),
        ("opening", None),
        ("decisions", {"text": "Open three warm spaces"}),
        ("record", None),
        ("reopening", {"reason": "typo"}),
        ("cancellation", {"reason": "snow"}),
        ("minutes", {"decisions": [{"text": "Open three warm spaces"}]}),
    ]
    for step, json in writes:
        r = await desk.do("auditor", mid, step, json)
        assert r.status_code == 403 and r.json()["rule"] == "auditors-only-read", (step, r.text)
    assert await desk.events() == before


async def test_members_of_the_forum_are_invited_once(desk: Desk) -> None:
    mid = await desk.schedule()
    r = await desk.do(
        "amina", mid, "invitations", {"leader_ids": [desk.id("ben"), desk.id("chloe")]}
    )
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    assert (await desk.state(mid))["invited"] == sorted([desk.id("ben"), desk.id("chloe")])
    again = await desk.do("amina", mid, "invitations", {"leader_ids": [desk.id("ben")]})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "leader_ids"


async def test_inviting_someone_outside_the_forum_is_refused(desk: Desk) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    r = await desk.do("amina", mid, "invitations", {"leader_ids": [str(uuid.uuid4())]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "leader_ids"
    wrong = await desk.do("amina", mid, "invitations", {"leader_ids": "ben"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "leader_ids"
    too_many = {"leader_ids": [str(uuid.uuid4()) for _ in range(101)]}
    assert (await desk.do("amina", mid, "invitations", too_many)).status_code == 422
    assert await desk.events() == before


async def test_only_stewards_keep_the_record_of_a_meeting(desk: Desk) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    r = await desk.do("ben", mid, "invitations", {"leader_ids": [desk.id("chloe")]})
    assert r.status_code == 403 and r.json()["rule"] == "only-stewards-can-invite"
    r = await desk.do("ben", mid, "opening")
    assert r.status_code == 403 and r.json()["rule"] == "only-stewards-can-open-meetings"
    assert await desk.events() == before
    assert (await desk.do("recorder", mid, "opening")).status_code == 200


async def test_attendance_keeps_each_affiliation_as_it_was_on_the_meetings_local_date(
    desk: Desk, repository: Repository
) -> None:
    ben = await repository.get(Leader, desk.world.id("ben"))
    trust = Organisation.register(uuid.uuid4(), "Northfield NHS Trust", "nhs")
    ben.end_affiliation(desk.world.organisations["ben"].id, date(2026, 3, 31))
    ben.record_affiliation(trust.id, "Chief Nurse", date(2026, 4, 1))
    await repository.save(trust, ben, context=SEEDER)
    # 23:30 UTC on 31 March is already 1 April in London, where the forum meets.
    mid = await desk.schedule(starts_at="2026-03-31T23:30:00+00:00")
    await desk.do("amina", mid, "opening")
    attendees = [
        {"leader_id": desk.id("ben"), "status": "attended"},
        {"leader_id": desk.id("chloe"), "status": "apologies"},
    ]
    r = await desk.do("amina", mid, "attendance", {"attendees": attendees}, **{"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["version"] == 3, r.text
    trust.rename("Northfield and District NHS Trust")
    await repository.save(trust, context=SEEDER)
    recorded = {a["leader_id"]: a for a in (await desk.state(mid))["attendance"]}
    assert recorded[desk.id("ben")]["status"] == "attended"
    assert recorded[desk.id("ben")]["affiliation"] == {
        "organisation_id": str(trust.id),
        "organisation_name": "Northfield NHS Trust",
        "title": "Chief Nurse",
    }
    chloe = recorded[desk.id("chloe")]
    assert chloe["status"] == "apologies"
    assert chloe["affiliation"]["organisation_name"] == "Chloe Council"


async def test_a_leader_with_several_roles_is_recorded_in_the_role_they_came_in(
    desk: Desk, repository: Repository
) -> None:
    ben = await repository.get(Leader, desk.world.id("ben"))
    council = desk.world.organisations["ben"].id
    ben.record_affiliation(council, "Cabinet member for housing", date(2024, 1, 1))
    await repository.save(ben, context=SEEDER)
    mid = await desk.opened()
    before = await desk.events()
    unnamed = {"attendees": [{"leader_id": desk.id("ben"), "status": "attended"}]}
    r = await desk.do("amina", mid, "attendance", unnamed)
    assert r.status_code == 422, r.text
    [item] = r.json()["items"]
    assert (item["index"], item["field"]) == (0, "title")
    assert "Cabinet member for housing; Director" in item["message"]
    not_held = {"attendees": [unnamed["attendees"][0] | {"title": "Chair"}]}
    r = await desk.do("amina", mid, "attendance", not_held)
    assert r.status_code == 422 and r.json()["items"][0]["field"] == "title", r.text
    assert await desk.events() == before
    named = {"attendees": [unnamed["attendees"][0] | {"title": "cabinet member for housing"}]}
    r = await desk.do("amina", mid, "attendance", named)
    assert r.status_code == 200, r.text
    [attended] = (await desk.state(mid))["attendance"]
    assert attended["affiliation"] == {
        "organisation_id": str(council),
        "organisation_name": "Ben Council",
        "title": "Cabinet member for housing",
    }


async def test_attendance_before_the_meeting_opens_is_a_conflict(desk: Desk) -> None:
    mid = await desk.schedule()
    body = {"attendees": [{"leader_id": desk.id("ben"), "status": "attended"}]}
    r = await desk.do("amina", mid, "attendance", body)
    assert r.status_code == 409 and r.json()["current_state"] == "scheduled", r.text


async def test_attendance_names_each_refused_attendee_and_writes_nothing(desk: Desk) -> None:
    mid = await desk.opened()
    before = await desk.events()
    attendees = [
        {"leader_id": desk.id("ben"), "status": "attended"},
        {"leader_id": str(uuid.uuid4()), "status": "attended"},
        {"leader_id": desk.id("ben"), "status": "apologies"},
    ]
    r = await desk.do("amina", mid, "attendance", {"attendees": attendees})
    assert r.status_code == 422, r.text
    items = [(i["list"], i["index"], i["field"]) for i in r.json()["items"]]
    assert items == [("attendees", 1, "leader_id"), ("attendees", 2, "leader_id")]
    late = {"attendees": [{"leader_id": desk.id("ben"), "status": "late"}]}
    r = await desk.do("amina", mid, "attendance", late)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "attendees[0].status"
    assert (await desk.do("amina", mid, "attendance", {"attendees": []})).status_code == 422
    assert await desk.events() == before


async def test_decisions_are_recorded_with_a_given_or_an_assigned_id(desk: Desk) -> None:
    mid = await desk.opened()
    named = str(uuid.uuid4())
    r = await desk.do("amina", mid, "decisions", {"decision_id": named, "text": "Open the library"})
    assert r.status_code == 200, r.text
    r = await desk.do("recorder", mid, "decisions", {"text": "Extend hours to 9pm"})
    assert r.status_code == 200, r.text
    decisions = (await desk.state(mid))["decisions"]
    assert [d["text"] for d in decisions] == ["Open the library", "Extend hours to 9pm"]
    assert decisions[0]["decision_id"] == named
    before = await desk.events()
    again = await desk.do("amina", mid, "decisions", {"decision_id": named, "text": "Again"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "decision_id"
    long = await desk.do("amina", mid, "decisions", {"text": "x" * 4001})
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "text"
    assert await desk.events() == before


async def test_a_decision_needs_an_open_meeting(desk: Desk) -> None:
    mid = await desk.schedule()
    r = await desk.do("amina", mid, "decisions", {"text": "Open the library"})
    assert r.status_code == 409 and r.json()["current_state"] == "scheduled"


async def test_the_record_is_finalised_as_a_new_version_each_time_it_is_reopened(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    assert (await desk.do("amina", mid, "record")).status_code == 200
    state = await desk.state(mid)
    assert (state["status"], state["record_version"]) == ("finalised", 1)
    late = await desk.do("amina", mid, "decisions", {"text": "Too late"})
    assert late.status_code == 409 and late.json()["current_state"] == "finalised"
    blank = await desk.do("amina", mid, "reopening", {"reason": ""})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"
    r = await desk.do("amina", mid, "reopening", {"reason": "Chloe's apologies were missed"})
    assert r.status_code == 200, r.text
    assert (await desk.state(mid))["status"] == "open"
    assert (await desk.do("amina", mid, "record")).status_code == 200
    state = await desk.state(mid)
    assert (state["status"], state["record_version"]) == ("finalised", 2)


async def test_reopening_a_record_that_is_not_finalised_is_a_conflict(desk: Desk) -> None:
    mid = await desk.opened()
    r = await desk.do("amina", mid, "reopening", {"reason": "why not"})
    assert r.status_code == 409 and r.json()["current_state"] == "open"


async def test_a_stale_if_match_is_refused_with_the_current_version(desk: Desk) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    r = await desk.do("amina", mid, "opening", **{"If-Match": '"99"'})
    assert r.status_code == 412 and r.json()["current_version"] == 1, r.text
    assert await desk.events() == before
    ok = await desk.do("amina", mid, "opening", **{"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2


async def test_a_scheduled_meeting_is_cancelled_with_a_reason_and_cannot_then_open(
    desk: Desk,
) -> None:
    mid = await desk.schedule()
    long = await desk.do("amina", mid, "cancellation", {"reason": "x" * 2001})
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "reason"
    missing = await desk.do("amina", mid, "cancellation", {})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    r = await desk.do("admin", mid, "cancellation", {"reason": "Snow closed the roads"})
    assert r.status_code == 200, r.text
    assert (await desk.state(mid))["status"] == "cancelled"
    again = await desk.do("amina", mid, "opening")
    assert again.status_code == 409 and again.json()["current_state"] == "cancelled"
    r = await desk.do("amina", mid, "cancellation", {"reason": "twice"})
    assert r.status_code == 409 and r.json()["command"] == "cancel"


async def test_finalising_a_meeting_that_never_opened_is_a_conflict(desk: Desk) -> None:
    mid = await desk.schedule()
    r = await desk.do("amina", mid, "record")
    assert r.status_code == 409 and r.json()["current_state"] == "scheduled"
