"""Minutes over a real database: one call, every affected stream, all or nothing."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import SEEDER, seed_world
from tests.api.test_meetings import Desk
from tracker.application.external import EXTERNAL_IDS
from tracker.domain import Purpose
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def desk(client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Desk:
    world = await seed_world(repository)
    headers = {name: await issue.headers("leader", world.id(name)) for name in world.leaders}
    headers["auditor"] = await issue.headers("auditor")
    headers["recorder"] = await issue.headers("integration", name="minutes-tool")
    headers["admin"] = await issue.headers("admin")
    headers["nobody"] = {}
    return Desk(client, world, headers, pool)


def commitment(desk: Desk, owner: str, **extra: Any) -> dict[str, Any]:
    assert desk.world.purpose is not None
    return {
        "owner_id": desk.id(owner),
        "description": f"{owner.title()} opens a warm space on weekday evenings",
        "purpose_ids": [str(desk.world.purpose.id)],
    } | extra


def minutes(desk: Desk, **extra: Any) -> dict[str, Any]:
    """Minutes of a meeting amina and ben attended, chloe sent apologies, two decisions made."""
    return {
        "attendance": [
            {"leader_id": desk.id("amina"), "status": "attended"},
            {"leader_id": desk.id("ben"), "status": "attended"},
            {"leader_id": desk.id("chloe"), "status": "apologies"},
        ],
        "decisions": [{"text": "Open three warm spaces"}, {"text": "Meet again in January"}],
        "commitments": [commitment(desk, "amina"), commitment(desk, "ben", due_on="2026-12-20")],
    } | extra


async def commitment_state(desk: Desk, cid: str) -> dict[str, Any]:
    r = await desk.client.get(f"/commitments/{cid}", headers=desk.h["auditor"])
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_minutes_land_in_the_meeting_and_every_new_commitment_in_one_transaction(
    desk: Desk,
) -> None:
    mid = await desk.schedule()
    r = await desk.do("amina", mid, "minutes", minutes(desk))
    assert r.status_code == 200, r.text
    result = r.json()
    # Opened, attendance recorded, two decisions: four meeting events after the scheduling.
    assert result["meeting"]["stream_id"] == mid and result["meeting"]["version"] == 5
    assert len(result["commitments"]) == 2 and len(result["decision_ids"]) == 2
    assert all(c["version"] == 1 for c in result["commitments"])
    streams = [uuid.UUID(mid), *(uuid.UUID(c["stream_id"]) for c in result["commitments"])]
    transactions = await desk.pool.fetchval(
        "SELECT count(DISTINCT transaction_id) FROM events"
        " WHERE stream_id = ANY($1::uuid[]) AND NOT (stream_id = $2 AND version = 1)",
        streams,
        uuid.UUID(mid),
    )
    assert transactions == 1
    state = await desk.state(mid)
    assert state["status"] == "open" and state["version"] == 5
    assert [(a["leader_id"], a["status"]) for a in state["attendance"]] == [
        (desk.id("amina"), "attended"),
        (desk.id("ben"), "attended"),
        (desk.id("chloe"), "apologies"),
    ]
    assert state["attendance"][1]["affiliation"]["organisation_name"] == "Ben Council"
    assert [d["decision_id"] for d in state["decisions"]] == result["decision_ids"]
    for c in result["commitments"]:
        assert (await commitment_state(desk, c["stream_id"]))["meeting_id"] == mid


def parties(state: dict[str, Any]) -> tuple[Any, ...]:
    """Who a commitment's state names, and how it was made."""
    keys = ("status", "owner_id", "made_by", "requester_id", "recorded_by", "minuted_as")
    return tuple(state[k] for k in keys)


async def test_an_attending_owners_commitment_is_active_at_once_and_made_by_them(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    body = minutes(desk)
    body["commitments"][1]["requester_id"] = desk.id("amina")
    r = await desk.do("amina", mid, "minutes", body)
    assert r.status_code == 200, r.text
    assert [c["case"] for c in r.json()["commitments"]] == ["made_in_room", "made_in_room"]
    own, for_ben = (c["stream_id"] for c in r.json()["commitments"])
    recorder = f"leader:{desk.id('amina')}"
    mine = await commitment_state(desk, own)
    amina = desk.id("amina")
    assert parties(mine) == ("active", amina, amina, None, recorder, "made_in_room")
    bens = await commitment_state(desk, for_ben)
    ben = desk.id("ben")
    assert parties(bens) == ("active", ben, ben, amina, recorder, "made_in_room")
    assert (bens["due_on"], bens["made_on"], bens["meeting_id"]) == (
        "2026-12-20",
        "2026-11-26",
        mid,
    )
    accepted = await desk.client.post(f"/commitments/{for_ben}/acceptance", headers=desk.h["ben"])
    assert accepted.status_code == 409, accepted.text


async def test_a_commitment_for_an_owner_who_sent_apologies_or_was_absent_is_proposed_to_them(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    body = minutes(
        desk,
        attendance=minutes(desk)["attendance"][::2],  # amina attended, chloe sent apologies
        commitments=[
            commitment(desk, "chloe"),
            commitment(desk, "ben", requester_id=desk.id("amina")),
        ],
    )
    r = await desk.do("recorder", mid, "minutes", body)
    assert r.status_code == 200, r.text
    cases = [c["case"] for c in r.json()["commitments"]]
    assert cases == ["proposed_to_absent", "proposed_to_absent"]
    chloes, bens = (c["stream_id"] for c in r.json()["commitments"])
    recorder = "integration:minutes-tool"
    chloe, ben, amina = desk.id("chloe"), desk.id("ben"), desk.id("amina")
    state = await commitment_state(desk, chloes)
    assert parties(state) == ("proposed", chloe, None, None, recorder, "proposed_to_absent")
    state = await commitment_state(desk, bens)
    assert parties(state) == ("proposed", ben, None, amina, recorder, "proposed_to_absent")
    accepted = await desk.client.post(f"/commitments/{chloes}/acceptance", headers=desk.h["chloe"])
    assert accepted.status_code == 200, accepted.text
    assert (await commitment_state(desk, chloes))["status"] == "active"


async def test_a_recorder_is_never_a_party_and_the_owner_renegotiates_alone(desk: Desk) -> None:
    mid = await desk.opened()
    body = minutes(desk, decisions=[], commitments=[commitment(desk, "ben", due_on="2026-12-20")])
    r = await desk.do("amina", mid, "minutes", body)
    assert r.status_code == 200, r.text
    cid = r.json()["commitments"][0]["stream_id"]
    change = {"reason": "the hall is booked", "due_on": "2027-01-10"}
    refused = await desk.client.post(
        f"/commitments/{cid}/renegotiations", json=change, headers=desk.h["amina"]
    )
    assert refused.status_code == 403, refused.text
    r = await desk.client.post(
        f"/commitments/{cid}/renegotiations", json=change, headers=desk.h["ben"]
    )
    assert r.status_code == 200, r.text
    state = await commitment_state(desk, cid)
    assert (state["due_on"], state["renegotiation_pending"]) == ("2027-01-10", False)


async def test_attendance_recorded_before_the_minutes_decides_who_was_in_the_room(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    ben_attended = {"attendees": [{"leader_id": desk.id("ben"), "status": "attended"}]}
    assert (await desk.do("amina", mid, "attendance", ben_attended)).status_code == 200
    body = {"commitments": [commitment(desk, "ben"), commitment(desk, "chloe")]}
    r = await desk.do("recorder", mid, "minutes", body)
    assert r.status_code == 200, r.text
    assert [c["case"] for c in r.json()["commitments"]] == ["made_in_room", "proposed_to_absent"]


async def test_a_requester_must_have_attended(desk: Desk) -> None:
    mid = await desk.opened()
    before = await desk.events()
    body = minutes(
        desk,
        commitments=[
            commitment(desk, "ben", requester_id=desk.id("chloe")),
            commitment(desk, "amina", requester_id=str(uuid.uuid4())),
            commitment(desk, "ben", requester_id=desk.id("ben")),
        ],
    )
    r = await desk.do("amina", mid, "minutes", body)
    assert r.status_code == 422, r.text
    assert [(i["index"], i["field"]) for i in r.json()["items"]] == [
        (0, "requester_id"),
        (1, "requester_id"),
        (2, "requester_id"),
    ]
    assert r.json()["errors"][0]["field"] == "commitments[0].requester_id"
    assert await desk.events() == before


async def test_a_recorders_minutes_without_attendance_propose_every_commitment(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    r = await desk.do("recorder", mid, "minutes", minutes(desk, attendance=[], decisions=[]))
    assert r.status_code == 200, r.text
    assert r.json()["meeting"] is None and r.json()["decision_ids"] == []
    for c in r.json()["commitments"]:
        assert c["case"] == "proposed_to_absent"
        state = await commitment_state(desk, c["stream_id"])
        assert (state["status"], state["made_by"], state["requester_id"]) == (
            "proposed",
            None,
            None,
        )


async def test_one_unknown_owner_rejects_the_whole_minutes_and_nothing_is_written(
    desk: Desk,
) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    body = minutes(desk)
    body["commitments"].append(commitment(desk, "chloe") | {"owner_id": str(uuid.uuid4())})
    r = await desk.do("amina", mid, "minutes", body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert [(i["list"], i["index"], i["field"]) for i in problem["items"]] == [
        ("commitments", 2, "owner_id")
    ]
    assert problem["items"][0]["message"] == "the owner must be a member of the forum"
    assert problem["errors"][0]["field"] == "commitments[2].owner_id"
    assert await desk.events() == before
    state = await desk.state(mid)
    assert (state["status"], state["attendance"], state["decisions"]) == ("scheduled", [], [])


async def test_a_retired_purpose_in_one_commitment_rejects_the_whole_minutes(
    desk: Desk, repository: Repository
) -> None:
    assert desk.world.forum is not None
    retired = Purpose.propose(uuid.uuid4(), desk.world.forum.id, "Old aim", desk.world.id("amina"))
    retired.retire("superseded")
    await repository.save(retired, context=SEEDER)
    mid = await desk.opened()
    before = await desk.events()
    body = minutes(desk)
    body["commitments"][1]["purpose_ids"] = [str(retired.id)]
    r = await desk.do("amina", mid, "minutes", body)
    assert r.status_code == 422, r.text
    [item] = r.json()["items"]
    assert (item["list"], item["index"], item["rule"]) == ("commitments", 1, "purpose-is-retired")
    assert await desk.events() == before


async def test_every_refused_item_is_listed_not_just_the_first(desk: Desk) -> None:
    mid = await desk.opened()
    before = await desk.events()
    decision = str(uuid.uuid4())
    body = minutes(
        desk,
        attendance=[{"leader_id": str(uuid.uuid4()), "status": "attended"}],
        decisions=[{"decision_id": decision, "text": "A"}, {"decision_id": decision, "text": "B"}],
        commitments=[
            commitment(desk, "ben", due_on="2026-11-01"),
            commitment(desk, "ben", purpose_ids=[str(uuid.uuid4())]),
            commitment(desk, "ben", purpose_ids=[]),
        ],
    )
    r = await desk.do("amina", mid, "minutes", body)
    assert r.status_code == 422, r.text
    assert [(i["list"], i["index"], i["field"]) for i in r.json()["items"]] == [
        ("attendance", 0, "leader_id"),
        ("decisions", 1, "decision_id"),
        ("commitments", 0, "due_on"),
        ("commitments", 1, "purpose_ids"),
        ("commitments", 2, "purpose_ids"),
    ]
    assert await desk.events() == before


async def test_a_retried_minutes_call_with_the_same_idempotency_key_returns_the_first_answer(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    headers = {"Idempotency-Key": "minutes-dec"}
    first = await desk.do("amina", mid, "minutes", minutes(desk), **headers)
    assert first.status_code == 200, first.text
    after_first = await desk.events()
    again = await desk.do("amina", mid, "minutes", minutes(desk), **headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() | {
        "replayed": True,
        "meeting": first.json()["meeting"] | {"replayed": True},
        "commitments": [c | {"replayed": True} for c in first.json()["commitments"]],
    }
    assert await desk.events() == after_first
    changed = await desk.do("amina", mid, "minutes", minutes(desk, decisions=[]), **headers)
    assert changed.status_code == 422 and "idempotency-key-reused" in changed.json()["type"]


async def test_external_ids_fix_commitment_ids_and_a_resend_is_refused_item_by_item(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    body = {
        "source_system": "minutes-tool",
        "commitments": [commitment(desk, "ben", external_id="action-7")],
    }
    r = await desk.do("recorder", mid, "minutes", body)
    assert r.status_code == 200, r.text
    expected = uuid.uuid5(EXTERNAL_IDS, "minutes-tool:action-7")
    assert r.json()["commitments"][0]["stream_id"] == str(expected)
    before = await desk.events()
    again = await desk.do("recorder", mid, "minutes", body)
    assert again.status_code == 422, again.text
    [item] = again.json()["items"]
    assert (item["index"], item["field"]) == (0, "external_id")
    assert "already recorded" in item["message"]
    twice = {
        "source_system": "minutes-tool",
        "commitments": [
            commitment(desk, "ben", external_id="action-8"),
            commitment(desk, "chloe", external_id="action-8"),
        ],
    }
    r = await desk.do("recorder", mid, "minutes", twice)
    assert [(i["index"], i["field"]) for i in r.json()["items"]] == [(1, "external_id")]
    bare = {"commitments": [commitment(desk, "ben", external_id="action-9")]}
    r = await desk.do("recorder", mid, "minutes", bare)
    assert [(i["index"], i["field"]) for i in r.json()["items"]] == [(0, "external_id")]
    assert await desk.events() == before


async def test_only_a_steward_an_admin_or_a_recorder_records_minutes(desk: Desk) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    r = await desk.do("ben", mid, "minutes", minutes(desk))
    assert r.status_code == 403 and r.json()["rule"] == "only-stewards-can-record-minutes"
    r = await desk.do("auditor", mid, "minutes", minutes(desk))
    assert r.status_code == 403 and r.json()["rule"] == "auditors-only-read"
    assert (await desk.do("nobody", mid, "minutes", minutes(desk))).status_code == 401
    unknown = await desk.do("amina", str(uuid.uuid4()), "minutes", minutes(desk))
    assert unknown.status_code == 404
    assert await desk.events() == before
    assert (await desk.do("admin", mid, "minutes", minutes(desk))).status_code == 200


async def test_minutes_of_a_cancelled_or_finalised_meeting_are_a_conflict(desk: Desk) -> None:
    cancelled = await desk.schedule()
    await desk.do("amina", cancelled, "cancellation", {"reason": "snow"})
    finalised = await desk.opened()
    await desk.do("amina", finalised, "record")
    before = await desk.events()
    for mid, status in ((cancelled, "cancelled"), (finalised, "finalised")):
        r = await desk.do("amina", mid, "minutes", minutes(desk))
        assert r.status_code == 409 and r.json()["current_state"] == status, r.text
    assert await desk.events() == before


async def test_minutes_with_a_stale_if_match_are_refused_with_the_current_version(
    desk: Desk,
) -> None:
    mid = await desk.opened()
    before = await desk.events()
    r = await desk.do("amina", mid, "minutes", minutes(desk), **{"If-Match": '"99"'})
    assert r.status_code == 412 and r.json()["current_version"] == 2, r.text
    assert await desk.events() == before
    ok = await desk.do("amina", mid, "minutes", minutes(desk), **{"If-Match": '"2"'})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"agenda": []}, "agenda"),
        ({"decisions": [{"text": "x" * 4001}]}, "decisions[0].text"),
        ({"decisions": [{"text": "ok", "vote": 3}]}, "decisions[0]"),
        ({"attendance": [{"leader_id": "ben", "status": "attended"}]}, "attendance[0].leader_id"),
        ({"commitments": "none"}, "commitments"),
        ({"decisions": [{"text": "d"}] * 201}, "decisions"),
    ],
)
async def test_malformed_minutes_are_refused_naming_the_field(
    desk: Desk, change: dict[str, Any], field: str
) -> None:
    mid = await desk.opened()
    before = await desk.events()
    r = await desk.do("amina", mid, "minutes", minutes(desk) | change)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert await desk.events() == before


async def test_empty_minutes_are_refused(desk: Desk) -> None:
    mid = await desk.schedule()
    before = await desk.events()
    r = await desk.do("amina", mid, "minutes", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "minutes"
    assert await desk.events() == before


async def test_minutes_under_another_systems_source_system_are_refused(desk: Desk) -> None:
    mid = await desk.opened()
    # An id of its own: the app's aggregate cache outlives each test's emptied tables.
    body = {
        "source_system": "minutes-tool",
        "commitments": [commitment(desk, "ben", external_id=f"action-{uuid.uuid4()}")],
    }
    before = await desk.events()
    for by in ("amina", "admin"):
        r = await desk.do(by, mid, "minutes", body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source_system"
    assert await desk.events() == before
    assert (await desk.do("recorder", mid, "minutes", body)).status_code == 200
