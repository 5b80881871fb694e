"""Writes: an integration's forum limit, the leader it acts for, and who may comment."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.api.conftest import Tokens
from tests.api.partners import STARTS_AT, Client, Partners, partners
from tracker.eventstore.repository import Repository


@pytest.fixture
async def p(client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Partners:
    return await partners(client, issue, repository, pool)


def creations(p: Partners) -> list[tuple[str, dict[str, Any]]]:
    """A new resource of each kind in forum A."""
    return [
        ("/commitments", p.commitment_body()),
        ("/purposes", {"forum_id": p.forum_a(), "statement": "Nobody goes hungry"}),
        ("/agreements", p.agreement_body()),
        ("/meetings", {"forum_id": p.forum_a(), "title": "January board", "starts_at": STARTS_AT}),
    ]


def changes(p: Partners) -> list[tuple[str, str, dict[str, Any] | None]]:
    """A write to each of forum A's resources: the stream it changes, the path and the body."""
    i = p.ids
    ruled = {"decision_rule_id": str(uuid.uuid4())}
    return [
        (i["commitment"], f"/commitments/{i['commitment']}/comments", {"text": "Noted"}),
        (i["purpose"], f"/purposes/{i['purpose']}/adoption", ruled),
        (i["purpose"], f"/purposes/{i['purpose']}/revisions", {"statement": "Warm", "reason": "x"}),
        (i["meeting"], f"/meetings/{i['meeting']}/opening", None),
        (i["meeting"], f"/meetings/{i['meeting']}/minutes", {"decisions": [{"text": "Sundays"}]}),
        (i["agreement"], f"/agreements/{i['agreement']}/adoption", ruled),
        (
            i["agreement"],
            f"/agreements/{i['agreement']}/amendments",
            {"text": "By vote", "reason": "x"},
        ),
        (i["agreement"], f"/agreements/{i['agreement']}/rescission", {"reason": "Unused"}),
        (i["forum"], f"/forums/{i['forum']}/renaming", {"name": "Warm rooms"}),
    ]


async def test_a_purpose_outside_its_limit_is_an_unknown_agreement_scope(p: Partners) -> None:
    before = await p.events()
    r = await p.post(
        "/agreements", p.agreement_body("purpose"), "limited-b", **{"On-Behalf-Of": p.leader("ben")}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "scope_id", "message": f"no such purpose: {p.purpose_a()}"}
    ]
    assert await p.events() == before


async def test_another_forums_resources_are_not_found_for_its_writes(p: Partners) -> None:
    for stream_id, path, body in changes(p):
        before = await p.version(stream_id)
        r = await p.post(path, body, "limited-b", **{"On-Behalf-Of": p.leader("ben")})
        assert r.status_code == 404, (path, r.text)
        assert r.json()["type"].endswith("/not-found") and stream_id in r.json()["detail"]
        assert await p.version(stream_id) == before


async def test_within_its_limit_an_integration_records_as_before(p: Partners) -> None:
    acting = {"On-Behalf-Of": p.leader("chloe")}
    r = await p.post("/commitments", p.commitment_body(), "limited-a", **acting)
    assert r.status_code == 201, r.text
    cid = p.ids["commitment"]
    assert (
        await p.post(f"/commitments/{cid}/comments", {"text": "Noted"}, "limited-a", **acting)
    ).status_code == 200
    assert (
        await p.post(f"/meetings/{p.ids['meeting']}/opening", None, "limited-a")
    ).status_code == 200


async def test_a_commitment_is_recorded_only_on_behalf_of_a_member(p: Partners) -> None:
    before = await p.events()
    for stranger in (str(uuid.uuid4()), p.leader("dev")):
        r = await p.post(
            "/commitments", p.commitment_body(), "integration", **{"On-Behalf-Of": stranger}
        )
        assert r.status_code == 403, r.text
        assert r.json()["rule"] == "only-forum-members-can-make-commitments"
    assert await p.events() == before
    r = await p.post(
        "/commitments", p.commitment_body(), "integration", **{"On-Behalf-Of": p.leader("chloe")}
    )
    assert r.status_code == 201, r.text
    made = await p.get(f"/commitments/{r.json()['stream_id']}", "chloe")
    assert made.json()["requester_id"] == p.leader("chloe")


async def test_proposals_and_record_keeping_are_on_behalf_of_members_only(p: Partners) -> None:
    before = await p.events()
    for path, body in creations(p)[1:]:
        r = await p.post(path, body, "integration", **{"On-Behalf-Of": p.leader("eve")})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["rule"].startswith("only-forum-members-can-")
    assert await p.events() == before


async def test_to_a_leader_of_another_forum_its_resources_are_unknown_ids_for_writes_too(
    p: Partners,
) -> None:
    for stream_id, path, body in changes(p):
        before = await p.version(stream_id)
        r = await p.post(path, body, "dev")
        unknown = await p.post(path.replace(stream_id, str(uuid.uuid4())), body, "dev")
        assert r.status_code == unknown.status_code == 404, (path, r.text)
        assert r.json()["detail"] == f"{r.json()['detail'].split()[0]} {stream_id} not found"
        assert await p.version(stream_id) == before
    assert (
        await p.post(f"/commitments/{p.ids['commitment']}/comments", {"text": "Good"}, "chloe")
    ).status_code == 200


async def test_a_party_who_left_the_forum_still_comments_on_their_commitment(p: Partners) -> None:
    cid = p.ids["commitment"]
    left = await p.post(
        f"/forums/{p.forum_a()}/member-departures", {"leader_id": p.leader("ben")}, "ben"
    )
    assert left.status_code == 200, left.text
    r = await p.post(f"/commitments/{cid}/comments", {"text": "Still on it"}, "ben")
    assert r.status_code == 200, r.text
    # Leaving ends reading the forum's resources, the party's own commitment included.
    assert (await p.get(f"/commitments/{cid}", "ben")).status_code == 404


async def test_an_admin_may_not_comment_and_is_told_by_rule(p: Partners) -> None:
    cid = p.ids["commitment"]
    before = await p.version(cid)
    r = await p.post(f"/commitments/{cid}/comments", {"text": "Noted"}, "admin")
    assert r.status_code == 403, r.text
    assert r.json()["rule"] == "only-leaders-or-recorders-can-comment"
    assert await p.version(cid) == before


async def test_an_integration_comments_only_on_behalf_of_a_member(p: Partners) -> None:
    cid = p.ids["commitment"]
    before = await p.version(cid)
    for stranger in (str(uuid.uuid4()), p.leader("dev")):
        r = await p.post(
            f"/commitments/{cid}/comments",
            {"text": "Noted"},
            "integration",
            **{"On-Behalf-Of": stranger},
        )
        assert r.status_code == 403, r.text
        assert r.json()["rule"] == "only-forum-members-can-comment"
    assert await p.version(cid) == before
