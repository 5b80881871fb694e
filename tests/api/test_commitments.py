"""The commitments API over a real database: every lifecycle step, and every refusal."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import World, seed_world
from tracker.domain import Purpose
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


class Party:
    """A seeded world plus a header set for each leader."""

    def __init__(self, client: Client, world: World, headers: dict[str, dict[str, str]]) -> None:
        self.client, self.world, self.h = client, world, headers

    def body(self, owner: str, **extra: Any) -> dict[str, Any]:
        assert self.world.forum is not None and self.world.purpose is not None
        return {
            "forum_id": str(self.world.forum.id),
            "owner_id": str(self.world.id(owner)),
            "description": "Open the library as a warm space on weekday evenings",
            "purpose_ids": [str(self.world.purpose.id)],
        } | extra

    async def make(self, by: str, owner: str, **extra: Any) -> str:
        r = await self.client.post(
            "/commitments", json=self.body(owner, **extra), headers=self.h[by]
        )
        assert r.status_code == 201, r.text
        return str(r.json()["stream_id"])

    async def do(self, by: str, cid: str, step: str, json: Any = None, **headers: str) -> Any:
        return await self.client.post(
            f"/commitments/{cid}/{step}", json=json, headers=self.h[by] | headers
        )

    async def state(self, cid: str) -> dict[str, Any]:
        r = await self.client.get(f"/commitments/{cid}", headers=self.h["amina"])
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
async def party(client: Client, issue: Tokens, repository: Repository) -> Party:
    world = await seed_world(repository)
    headers = {name: await issue.headers("leader", world.id(name)) for name in world.leaders}
    headers["auditor"] = await issue.headers("auditor")
    headers["minutes-tool"] = await issue.headers("integration", name="minutes-tool")
    headers["admin"] = await issue.headers("admin")
    return Party(client, world, headers)


async def events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def test_a_leader_making_their_own_commitment_starts_it_active(party: Party) -> None:
    cid = await party.make("ben", "ben", due_on="2026-12-20")
    state = await party.state(cid)
    assert state["status"] == "active"
    assert state["owner_id"] == str(party.world.id("ben")) and state["requester_id"] is None
    assert state["made_on"] == "2026-11-26" and state["due_on"] == "2026-12-20"


async def test_a_request_for_someone_else_starts_proposed_until_they_accept(party: Party) -> None:
    cid = await party.make("amina", "ben")
    state = await party.state(cid)
    assert (state["status"], state["requester_id"]) == ("proposed", str(party.world.id("amina")))
    r = await party.do("ben", cid, "acceptance")
    assert r.status_code == 200 and r.json()["version"] == 2
    assert (await party.state(cid))["status"] == "active"


async def test_a_recorder_records_on_behalf_of_a_leader_and_the_owner_must_accept(
    party: Party,
) -> None:
    headers = party.h["minutes-tool"] | {"On-Behalf-Of": str(party.world.id("chloe"))}
    r = await party.client.post("/commitments", json=party.body("ben"), headers=headers)
    assert r.status_code == 201, r.text
    state = await party.state(r.json()["stream_id"])
    assert state["status"] == "proposed"
    assert state["requester_id"] == str(party.world.id("chloe")) and state["made_by"] is None


async def test_the_owner_declines_with_a_reason(party: Party) -> None:
    cid = await party.make("amina", "ben")
    assert (await party.do("ben", cid, "declination", {"reason": ""})).status_code == 422
    assert (await party.do("ben", cid, "declination", {"reason": "No capacity"})).status_code == 200
    assert (await party.state(cid))["status"] == "declined"


async def test_a_counter_offer_becomes_active_when_the_requester_accepts_it(party: Party) -> None:
    cid = await party.make("amina", "ben", due_on="2026-12-01")
    r = await party.do(
        "ben", cid, "counter-offers", {"due_on": "2027-01-15", "reason": "after the holidays"}
    )
    assert r.status_code == 200, r.text
    assert (await party.state(cid))["counter_offer_pending"] is True
    refused = await party.do("ben", cid, "counter-offer-acceptance")
    assert (
        refused.status_code == 403
        and refused.json()["rule"] == "only-requester-can-accept-counter-offer"
    )
    assert (await party.do("amina", cid, "counter-offer-acceptance")).status_code == 200
    state = await party.state(cid)
    assert (state["status"], state["due_on"]) == ("active", "2027-01-15")


async def test_what_was_asked_for_and_what_was_agreed_are_shown_apart(party: Party) -> None:
    cid = await party.make("amina", "ben", due_on="2026-12-01")
    asked = {"description": party.body("ben")["description"], "due_on": "2026-12-01"}
    state = await party.state(cid)
    assert (state["asked_for"], state["agreed"]) == (asked, None)
    offer = {"due_on": "2027-01-15", "description": "Open it on two evenings a week"}
    assert (await party.do("ben", cid, "counter-offers", offer)).status_code == 200
    assert (await party.do("amina", cid, "counter-offer-acceptance")).status_code == 200
    change = {"due_on": "2027-02-01", "reason": "the boiler is being replaced"}
    assert (await party.do("ben", cid, "renegotiations", change)).status_code == 200
    agreed = await party.do("amina", cid, "renegotiation-agreement")
    assert agreed.status_code == 200, agreed.text
    state = await party.state(cid)
    assert state["asked_for"] == asked and state["original_due_on"] == "2026-12-01"
    assert state["agreed"] == offer
    assert (state["due_on"], state["renegotiation_count"]) == ("2027-02-01", 1)
    listed = await party.client.get(
        "/commitments",
        params={"min_position": agreed.json()["position"], "owner_id": str(party.world.id("ben"))},
        headers=party.h["amina"],
    )
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert (item["asked_for"], item["agreed"]) == (asked, offer)
    assert (item["original_due_on"], item["due_on"]) == ("2026-12-01", "2027-02-01")


async def test_the_requester_withdraws_a_proposed_commitment(party: Party) -> None:
    cid = await party.make("amina", "ben")
    assert (await party.do("chloe", cid, "withdrawal", {})).status_code == 403
    assert (await party.do("amina", cid, "withdrawal", {"reason": "not needed"})).status_code == 200
    assert (await party.state(cid))["status"] == "withdrawn"


async def test_progress_goes_down_only_with_a_note(party: Party) -> None:
    cid = await party.make("ben", "ben")
    assert (await party.do("ben", cid, "progress-reports", {"percent": 60})).status_code == 200
    down = await party.do("ben", cid, "progress-reports", {"percent": 40})
    assert down.status_code == 422 and down.json()["errors"][0]["field"] == "note"
    ok = await party.do(
        "ben", cid, "progress-reports", {"percent": 40, "note": "venue fell through"}
    )
    assert ok.status_code == 200
    assert (await party.state(cid))["progress"] == 40


async def test_a_unilateral_renegotiation_keeps_the_original_due_date(party: Party) -> None:
    cid = await party.make("ben", "ben", due_on="2026-12-01")
    r = await party.do(
        "ben", cid, "renegotiations", {"due_on": "2026-12-15", "reason": "supplier delay"}
    )
    assert r.status_code == 200, r.text
    state = await party.state(cid)
    assert (state["due_on"], state["original_due_on"]) == ("2026-12-15", "2026-12-01")
    assert state["renegotiation_count"] == 1
    same = await party.do("ben", cid, "renegotiations", {"due_on": "2026-12-15", "reason": "again"})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "terms"


async def test_with_a_requester_a_renegotiation_waits_for_their_agreement(party: Party) -> None:
    cid = await party.make("amina", "ben", due_on="2026-12-01")
    await party.do("ben", cid, "acceptance")
    await party.do(
        "ben", cid, "renegotiations", {"due_on": "2026-12-20", "reason": "staff sickness"}
    )
    pending = await party.state(cid)
    assert pending["renegotiation_pending"] and pending["due_on"] == "2026-12-01"
    assert (await party.do("ben", cid, "renegotiation-agreement")).status_code == 403
    assert (await party.do("amina", cid, "renegotiation-agreement")).status_code == 200
    assert (await party.state(cid))["due_on"] == "2026-12-20"


async def test_a_rejected_renegotiation_keeps_the_terms(party: Party) -> None:
    cid = await party.make("amina", "ben", due_on="2026-12-01")
    await party.do("ben", cid, "acceptance")
    await party.do("ben", cid, "renegotiations", {"due_on": "2026-12-20", "reason": "busy"})
    assert (await party.do("amina", cid, "renegotiation-rejection", {})).status_code == 200
    state = await party.state(cid)
    assert not state["renegotiation_pending"] and state["due_on"] == "2026-12-01"


async def test_a_handover_changes_the_owner_only_when_accepted(party: Party) -> None:
    cid = await party.make("ben", "ben")
    r = await party.do("ben", cid, "handover-offers", {"to_id": str(party.world.id("chloe"))})
    assert r.status_code == 200, r.text
    offered = await party.state(cid)
    assert offered["handover_pending"] and offered["owner_id"] == str(party.world.id("ben"))
    assert (await party.do("amina", cid, "handover-acceptance")).status_code == 403
    assert (await party.do("chloe", cid, "handover-acceptance")).status_code == 200
    assert (await party.state(cid))["owner_id"] == str(party.world.id("chloe"))


async def test_a_handover_can_be_declined_or_withdrawn(party: Party) -> None:
    cid = await party.make("ben", "ben")
    to = {"to_id": str(party.world.id("chloe"))}
    await party.do("ben", cid, "handover-offers", to)
    assert (await party.do("chloe", cid, "handover-declination", {})).status_code == 200
    await party.do("ben", cid, "handover-offers", to)
    assert (await party.do("ben", cid, "handover-withdrawal")).status_code == 200
    assert (await party.state(cid))["handover_pending"] is False


async def test_a_handover_to_someone_outside_the_forum_is_refused(party: Party) -> None:
    cid = await party.make("ben", "ben")
    r = await party.do("ben", cid, "handover-offers", {"to_id": str(uuid.uuid4())})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to_id"


async def test_release_is_an_honourable_outcome_with_a_reason(party: Party) -> None:
    cid = await party.make("ben", "ben")
    assert (await party.do("amina", cid, "release", {"reason": "x"})).json()[
        "rule"
    ] == "only-owner-can-release"
    assert (await party.do("ben", cid, "release", {"reason": "funding ended"})).status_code == 200
    assert (await party.state(cid))["status"] == "released"
    after = await party.do("ben", cid, "progress-reports", {"percent": 10})
    assert after.status_code == 409 and after.json()["current_state"] == "released"


async def test_completion_is_acknowledged_or_disputed_by_the_requester(party: Party) -> None:
    cid = await party.make("amina", "ben")
    await party.do("ben", cid, "acceptance")
    assert (await party.do("ben", cid, "completion", {})).status_code == 200
    assert (await party.do("ben", cid, "acknowledgement")).status_code == 403
    assert (
        await party.do("amina", cid, "disputes", {"reason": "only half the rooms"})
    ).status_code == 200
    assert (await party.state(cid))["status"] == "active"
    await party.do("ben", cid, "completion", {})
    assert (await party.do("amina", cid, "acknowledgement")).status_code == 200
    assert (await party.state(cid))["status"] == "acknowledged"


async def test_the_owner_reopens_a_completed_commitment(party: Party) -> None:
    cid = await party.make("ben", "ben")
    await party.do("ben", cid, "completion", {})
    assert (await party.do("ben", cid, "reopening", {})).status_code == 200
    assert (await party.state(cid))["status"] == "active"


async def test_the_requester_or_a_steward_cancels(party: Party) -> None:
    requested = await party.make("chloe", "ben")
    await party.do("ben", requested, "acceptance")
    assert (await party.do("amina", requested, "cancellation", {"reason": "x"})).status_code == 403
    assert (
        await party.do("chloe", requested, "cancellation", {"reason": "no longer needed"})
    ).status_code == 200
    own = await party.make("ben", "ben")
    # amina convened the forum, so she is a steward, and this commitment has no requester.
    assert (
        await party.do("amina", own, "cancellation", {"reason": "merged into another"})
    ).status_code == 200
    assert (await party.state(own))["status"] == "cancelled"


async def test_purposes_are_linked_and_unlinked_but_one_always_remains(
    party: Party, repository: Repository
) -> None:
    assert party.world.forum is not None
    second = Purpose.propose(
        uuid.uuid4(), party.world.forum.id, "Warm homes", party.world.id("amina")
    )
    from tests.api.seed import SEEDER

    await repository.save(second, context=SEEDER)
    cid = await party.make("ben", "ben")
    assert (
        await party.do("ben", cid, "purpose-links", {"purpose_id": str(second.id)})
    ).status_code == 200
    assert len((await party.state(cid))["purpose_ids"]) == 2
    assert party.world.purpose is not None
    first = {"purpose_id": str(party.world.purpose.id)}
    assert (await party.do("ben", cid, "purpose-unlinks", first)).status_code == 200
    last = await party.do("ben", cid, "purpose-unlinks", {"purpose_id": str(second.id)})
    assert last.status_code == 403 and last.json()["rule"] == "commitment-needs-a-purpose"
    unknown = await party.do("ben", cid, "purpose-links", {"purpose_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "purpose_id"


async def test_comments_and_record_corrections_are_allowed_in_any_state(party: Party) -> None:
    cid = await party.make("ben", "ben", due_on="2026-12-01")
    await party.do("ben", cid, "release", {"reason": "done elsewhere"})
    assert (
        await party.do("chloe", cid, "comments", {"text": "thanks for trying"})
    ).status_code == 200
    fix = {"due_on": "2026-12-02", "reason": "typed the wrong day"}
    assert (await party.do("ben", cid, "corrections", fix)).status_code == 200
    assert (await party.state(cid))["due_on"] == "2026-12-02"
    recorder = party.h["minutes-tool"] | {"On-Behalf-Of": str(party.world.id("chloe"))}
    r = await party.client.post(
        f"/commitments/{cid}/comments", json={"text": "noted"}, headers=recorder
    )
    assert r.status_code == 200, r.text


async def test_creation_is_idempotent_by_key_and_by_external_reference(
    party: Party, pool: asyncpg.Pool
) -> None:
    seeded = await events(pool)
    headers = party.h["ben"] | {"Idempotency-Key": "minutes-42-item-3"}
    first = await party.client.post("/commitments", json=party.body("ben"), headers=headers)
    again = await party.client.post("/commitments", json=party.body("ben"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["stream_id"] == again.json()["stream_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events(pool) == seeded + 1
    external = party.body("ben", source_system="minutes-tool", external_id="m42-3")
    recorder = party.h["minutes-tool"] | {"On-Behalf-Of": str(party.world.id("ben"))}
    a = await party.client.post("/commitments", json=external, headers=recorder)
    b = await party.client.post("/commitments", json=external, headers=recorder)
    assert a.json()["stream_id"] == b.json()["stream_id"] and await events(pool) == seeded + 2
    other = await party.client.post(
        "/commitments", json=party.body("ben", description="Other"), headers=headers
    )
    assert other.status_code == 422 and "idempotency" in other.json()["type"]


async def test_a_repeated_command_with_a_key_returns_the_first_answer(
    party: Party, pool: asyncpg.Pool
) -> None:
    cid = await party.make("amina", "ben")
    first = await party.do("ben", cid, "acceptance", None, **{"Idempotency-Key": "acc-1"})
    again = await party.do("ben", cid, "acceptance", None, **{"Idempotency-Key": "acc-1"})
    assert first.status_code == again.status_code == 200
    assert first.json()["version"] == again.json()["version"] == 2
    assert (
        int(
            await pool.fetchval(
                "SELECT max(version) FROM events WHERE stream_id = $1", uuid.UUID(cid)
            )
        )
        == 2
    )


async def test_if_match_makes_a_command_conditional(party: Party) -> None:
    cid = await party.make("ben", "ben")
    stale = await party.do("ben", cid, "progress-reports", {"percent": 5}, **{"If-Match": '"3"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1 and stale.headers["etag"] == '"1"'
    ok = await party.do("ben", cid, "progress-reports", {"percent": 5}, **{"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    bad = await party.do("ben", cid, "progress-reports", {"percent": 6}, **{"If-Match": "soon"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "If-Match"


async def test_concurrent_commands_without_if_match_are_retried_and_all_land(party: Party) -> None:
    cid = await party.make("ben", "ben")
    reports = [
        party.do("ben", cid, "progress-reports", {"percent": p, "note": "update"})
        for p in range(10, 60, 10)
    ]
    responses = await asyncio.gather(*reports)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["version"] for r in responses) == [2, 3, 4, 5, 6]


async def test_a_forum_outsider_is_told_the_forum_is_unknown(party: Party, issue: Tokens) -> None:
    outsider = await issue.headers("leader", uuid.uuid4())
    r = await party.client.post("/commitments", json=party.body("ben"), headers=outsider)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "forum_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"forum_id": str(uuid.uuid4())}, "forum_id"),
        ({"purpose_ids": [str(uuid.uuid4())]}, "purpose_ids"),
        ({"purpose_ids": []}, "purpose_ids"),
        ({"description": "x" * 4001}, "description"),
        ({"description": "nul \x00 byte"}, "description"),
        ({"due_on": "2026-11-01"}, "due_on"),
        ({"due_on": "soon"}, "due_on"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_creation_fields_are_named_and_nothing_is_written(
    party: Party, pool: asyncpg.Pool, change: dict[str, Any], field: str
) -> None:
    before = await events(pool)
    r = await party.client.post(
        "/commitments", json=party.body("ben", **change), headers=party.h["ben"]
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == field
    assert await events(pool) == before


async def test_malformed_json_is_a_400_problem(party: Party) -> None:
    r = await party.client.post(
        "/commitments",
        content=b"{not json",
        headers=party.h["ben"] | {"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["status"] == 400


async def test_no_token_or_a_revoked_one_is_401(party: Party, pool: asyncpg.Pool) -> None:
    cid = await party.make("ben", "ben")
    assert (await party.client.get(f"/commitments/{cid}")).status_code == 401
    bogus = {"Authorization": "Bearer trk_nonsense"}
    r = await party.client.get(f"/commitments/{cid}", headers=bogus)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


async def test_auditors_read_but_never_write(party: Party) -> None:
    cid = await party.make("ben", "ben")
    assert (
        await party.client.get(f"/commitments/{cid}", headers=party.h["auditor"])
    ).status_code == 200
    r = await party.client.post("/commitments", json=party.body("ben"), headers=party.h["auditor"])
    assert r.status_code == 403 and r.json()["rule"] == "auditors-only-read"
    step = await party.do("auditor", cid, "progress-reports", {"percent": 1})
    assert step.status_code == 403


async def test_an_unknown_commitment_is_404(party: Party) -> None:
    r = await party.do("ben", str(uuid.uuid4()), "acceptance")
    assert r.status_code == 404
    g = await party.client.get(f"/commitments/{uuid.uuid4()}", headers=party.h["ben"])
    assert g.status_code == 404 and g.json()["type"].endswith("not-found")


async def test_every_event_records_the_actor_and_on_whose_behalf(
    party: Party, pool: asyncpg.Pool
) -> None:
    headers = party.h["minutes-tool"] | {"On-Behalf-Of": str(party.world.id("chloe"))}
    r = await party.client.post("/commitments", json=party.body("ben"), headers=headers)
    row = await pool.fetchrow(
        "SELECT actor, on_behalf_of, source FROM events WHERE stream_id = $1",
        uuid.UUID(r.json()["stream_id"]),
    )
    assert row["actor"] == "integration:minutes-tool"
    assert row["on_behalf_of"] == f"leader:{party.world.id('chloe')}"
    assert row["source"] == "api:integration:minutes-tool"  # from the token, never a header


async def test_as_of_a_position_returns_the_commitment_as_it_was_then(party: Party) -> None:
    cid = await party.make("ben", "ben")
    first = await party.do("ben", cid, "progress-reports", {"percent": 30})
    await party.do("ben", cid, "progress-reports", {"percent": 70})
    then = await party.client.get(
        f"/commitments/{cid}",
        params={"as_of": first.json()["position"]},
        headers=party.h["auditor"],
    )
    assert then.status_code == 200, then.text
    assert (then.json()["progress"], then.headers["etag"]) == (30, '"2"')
    before = await party.client.get(
        f"/commitments/{cid}", params={"as_of": "2000-01-01T00:00:00Z"}, headers=party.h["auditor"]
    )
    assert before.status_code == 404
    bad = await party.client.get(
        f"/commitments/{cid}", params={"as_of": "soon"}, headers=party.h["ben"]
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "as_of"
