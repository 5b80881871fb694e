"""Dates and times a client sends lie from 1900-01-01 to 2200-12-31, in bodies and queries alike."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, World, seed_world
from tests.clock import START
from tracker.domain import Meeting
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]
# Year 1 at +14:00 is year 0 in UTC, and 9999 at -14:00 is year 10000: neither exists in Python.
BEYOND = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00", "1899-12-31T23:59:59Z"]
BEYOND_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"]


class Desk:
    """A seeded forum, headers per caller, and a count of the log."""

    def __init__(self, client: Client, world: World, h: dict[str, dict[str, str]]) -> None:
        self.client, self.world, self.h = client, world, h

    @property
    def forum(self) -> str:
        assert self.world.forum is not None
        return str(self.world.forum.id)

    @property
    def purpose(self) -> str:
        assert self.world.purpose is not None
        return str(self.world.purpose.id)

    def commitment(self, **extra: Any) -> dict[str, Any]:
        return {
            "forum_id": self.forum,
            "owner_id": str(self.world.id("ben")),
            "description": "Open the library on weekday evenings",
            "purpose_ids": [self.purpose],
        } | extra


@pytest.fixture
async def desk(client: Client, issue: Tokens, repository: Repository) -> Desk:
    world = await seed_world(repository)
    h = {name: await issue.headers("leader", world.id(name)) for name in world.leaders}
    h["auditor"] = await issue.headers("auditor")
    h["admin"] = await issue.headers("admin")
    return Desk(client, world, h)


async def count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.parametrize("starts_at", BEYOND)
async def test_a_meeting_outside_the_span_is_refused_naming_starts_at(
    desk: Desk, pool: asyncpg.Pool, starts_at: str
) -> None:
    before = await count(pool)
    body = {"forum_id": desk.forum, "title": "Board", "starts_at": starts_at}
    refused(await desk.client.post("/meetings", json=body, headers=desk.h["amina"]), "starts_at")
    assert await count(pool) == before


@pytest.mark.parametrize("starts_at", ["1900-01-01T00:00:00+14:00", "2200-12-31T23:59:59-12:00"])
async def test_the_ends_of_the_span_are_accepted_at_any_offset(desk: Desk, starts_at: str) -> None:
    body = {"forum_id": desk.forum, "title": "Board", "starts_at": starts_at}
    r = await desk.client.post("/meetings", json=body, headers=desk.h["amina"])
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("due_on", BEYOND_DAYS)
async def test_due_dates_outside_the_span_are_refused_in_every_body(
    desk: Desk, pool: asyncpg.Pool, due_on: str
) -> None:
    made = await desk.client.post("/commitments", json=desk.commitment(), headers=desk.h["ben"])
    assert made.status_code == 201, made.text
    cid, before = made.json()["stream_id"], await count(pool)
    body = desk.commitment(due_on=due_on)
    refused(await desk.client.post("/commitments", json=body, headers=desk.h["ben"]), "due_on")
    terms = {"due_on": due_on, "reason": "later"}
    r = await desk.client.post(
        f"/commitments/{cid}/renegotiations", json=terms, headers=desk.h["ben"]
    )
    refused(r, "due_on")
    assert await count(pool) == before


async def test_a_minutes_commitment_due_outside_the_span_names_its_item(
    desk: Desk, pool: asyncpg.Pool, repository: Repository
) -> None:
    assert desk.world.forum is not None
    meeting = Meeting.schedule(uuid.uuid4(), desk.world.forum.id, "Board", START)
    meeting.open()
    await repository.save(meeting, context=SEEDER)
    before = await count(pool)
    item = desk.commitment(due_on="0001-01-01")
    del item["forum_id"]
    r = await desk.client.post(
        f"/meetings/{meeting.id}/minutes", json={"commitments": [item]}, headers=desk.h["amina"]
    )
    refused(r, "commitments[0].due_on")
    assert await count(pool) == before


async def test_an_affiliation_outside_the_span_is_refused(desk: Desk) -> None:
    leader = desk.world.id("ben")
    org = str(desk.world.organisations["amina"].id)
    body = {"organisation_id": org, "title": "Advisor", "from_on": "0001-01-01"}
    r = await desk.client.post(
        f"/leaders/{leader}/affiliations", json=body, headers=desk.h["admin"]
    )
    refused(r, "from_on")
    end = {"organisation_id": org, "to_on": "9999-12-31"}
    r = await desk.client.post(
        f"/leaders/{leader}/affiliation-endings", json=end, headers=desk.h["admin"]
    )
    refused(r, "to_on")


@pytest.mark.parametrize("moment", BEYOND)
async def test_as_of_outside_the_span_is_refused_on_resources_and_views(
    desk: Desk, moment: str
) -> None:
    leader = desk.world.id("ben")
    for path in [f"/leaders/{leader}", "/commitments", f"/purposes/{desk.purpose}/view"]:
        r = await desk.client.get(path, params={"as_of": moment}, headers=desk.h["auditor"])
        refused(r, "as_of")


@pytest.mark.parametrize("moment", BEYOND)
@pytest.mark.parametrize("name", ["recorded_after", "recorded_before"])
async def test_the_log_refuses_a_time_range_outside_the_span(
    desk: Desk, name: str, moment: str
) -> None:
    r = await desk.client.get("/events", params={name: moment}, headers=desk.h["auditor"])
    refused(r, name)


@pytest.mark.parametrize("moment", BEYOND)
@pytest.mark.parametrize("name", ["since", "until"])
async def test_the_export_refuses_a_time_outside_the_span_before_it_streams(
    desk: Desk, name: str, moment: str
) -> None:
    r = await desk.client.get("/events/export", params={name: moment}, headers=desk.h["auditor"])
    refused(r, name)


@pytest.mark.parametrize("day", BEYOND_DAYS)
async def test_the_commitment_list_refuses_due_filters_outside_the_span(
    desk: Desk, day: str
) -> None:
    for name in ["due_before", "due_after"]:
        r = await desk.client.get("/commitments", params={name: day}, headers=desk.h["auditor"])
        refused(r, name)


def cursor(created_at: str) -> str:
    raw = msgspec.json.encode([created_at, str(uuid.uuid4())])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("moment", BEYOND[:2])
async def test_a_cursor_carrying_a_time_outside_the_span_is_refused(
    desk: Desk, pool: asyncpg.Pool, moment: str
) -> None:
    at = await pool.fetchval("SELECT max(position) FROM events")
    params = {"cursor": cursor(moment), "min_position": at}
    for path in ["/commitments", f"/purposes/{desk.purpose}/view"]:
        r = await desk.client.get(path, params=params, headers=desk.h["auditor"])
        refused(r, "cursor")


def test_the_openapi_document_states_the_span(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()
    starts_at = schema["components"]["schemas"]["ScheduleMeeting"]["properties"]["starts_at"]
    assert "1900-01-01 to 2200-12-31" in starts_at["description"]
    assert starts_at["pattern"] == r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-"
    export = schema["paths"]["/events/export"]["get"]["parameters"]
    since = next(p for p in export if p["name"] == "since")
    assert "1900-01-01 to 2200-12-31" in since["description"]
    assert since["schema"]["pattern"] == starts_at["pattern"]
