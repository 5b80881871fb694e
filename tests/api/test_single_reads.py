"""Reading one resource: 200 for those who may see its forum, and to anyone else a plain 404."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.api.conftest import Tokens
from tests.api.partners import Client, Partners, partners
from tracker import tokens
from tracker.eventstore.repository import Repository

# The kind of resource, its collection, and the seeded resource of forum A it stands for.
RESOURCES = [
    ("commitment", "/commitments", "commitment"),
    ("purpose", "/purposes", "purpose"),
    ("meeting", "/meetings", "meeting"),
    ("forum", "/forums", "forum"),
    ("agreement", "/agreements", "agreement"),
    ("agreement", "/agreements", "purpose-agreement"),
]


@pytest.fixture
async def p(client: Client, issue: Tokens, repository: Repository, pool: asyncpg.Pool) -> Partners:
    return await partners(client, issue, repository, pool)


async def refused_like_unknown(
    p: Partners, by: str, collection: str, key: str, **params: str
) -> None:
    """The refusal is the very problem an id that does not exist gets, bar the id."""
    resource_id = p.ids[key]
    refused = await p.get(f"{collection}/{resource_id}", by, **params)
    unknown = str(uuid.uuid4())
    missing = await p.get(f"{collection}/{unknown}", by, **params)
    assert (refused.status_code, missing.status_code) == (404, 404), refused.text
    assert refused.headers["content-type"] == missing.headers["content-type"]
    assert refused.json() == {
        k: v.replace(unknown, resource_id) if isinstance(v, str) else v
        for k, v in missing.json().items()
    }
    assert "ETag" not in refused.headers


@pytest.mark.parametrize(("kind", "collection", "key"), RESOURCES)
async def test_members_admins_auditors_and_integrations_in_their_limit_read_it(
    p: Partners, kind: str, collection: str, key: str
) -> None:
    for by in ("chloe", "admin", "auditor", "integration", "limited-a"):
        r = await p.get(f"{collection}/{p.ids[key]}", by)
        assert r.status_code == 200, (by, r.text)
        assert r.json()["id"] == p.ids[key]


@pytest.mark.parametrize(("kind", "collection", "key"), RESOURCES)
async def test_a_leader_of_another_forum_gets_a_404(
    p: Partners, kind: str, collection: str, key: str
) -> None:
    await refused_like_unknown(p, "dev", collection, key)


@pytest.mark.parametrize(("kind", "collection", "key"), RESOURCES)
async def test_an_integration_limited_to_another_forum_gets_a_404(
    p: Partners, kind: str, collection: str, key: str
) -> None:
    await refused_like_unknown(p, "limited-b", collection, key)


async def test_a_member_who_left_the_forum_gets_a_404(p: Partners) -> None:
    assert (await p.get(f"/commitments/{p.ids['commitment']}", "chloe")).status_code == 200
    leaving = {"leader_id": p.leader("chloe")}
    r = await p.post(f"/forums/{p.forum_a()}/member-departures", leaving, "admin")
    assert r.status_code == 200, r.text
    for _, collection, key in RESOURCES:
        await refused_like_unknown(p, "chloe", collection, key)


async def test_as_of_is_refused_alike_and_before_it_is_even_parsed(p: Partners) -> None:
    position = str(await p.pool.fetchval("SELECT max(position) FROM events"))
    for _, collection, key in RESOURCES:
        member = await p.get(f"{collection}/{p.ids[key]}", "chloe", as_of=position)
        assert member.status_code == 200, member.text
        await refused_like_unknown(p, "dev", collection, key, as_of=position)
        # A malformed as_of is a 422 to a reader, and no clue at all to anyone else.
        bad = await p.get(f"{collection}/{p.ids[key]}", "dev", as_of="last tuesday")
        assert bad.status_code == 404, bad.text
        assert (await p.get(f"{collection}/{p.ids[key]}", "chloe", as_of="x")).status_code == 422


async def test_an_id_derived_from_an_external_reference_is_no_clue_either(p: Partners) -> None:
    body = p.commitment_body(source_system="minutes-tool", external_id="m42-3")
    # Only the system named by the reference records under it: an integration of that name.
    token = await tokens.issue(p.pool, "minutes-tool", "integration")
    p.h["minutes-tool"] = {"Authorization": f"Bearer {token}", "On-Behalf-Of": p.leader("ben")}
    p.ids["external"] = await p.created("/commitments", body, "minutes-tool")
    await refused_like_unknown(p, "dev", "/commitments", "external")
