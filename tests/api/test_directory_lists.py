"""The directory lists over the real app: paging, filters, external references, read-your-writes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import pytest

from tests.api.directory_world import Client, Directory
from tests.api.seed import SEEDER
from tracker import tokens
from tracker.application import bounds
from tracker.domain import Leader, Organisation
from tracker.eventstore.repository import Repository


@pytest.fixture
async def d(client: Client, repository: Repository, pool: asyncpg.Pool) -> Directory:
    world = Directory(client, repository, pool)
    await world.seed()
    return world


async def every_page(d: Directory, path: str, who: str, limit: int, **params: Any) -> list[Any]:
    """Every item, a page of `limit` at a time, following next_cursor."""
    items: list[Any] = []
    cursor = None
    while True:
        extra = {} if cursor is None else {"cursor": cursor}
        page = await d.get(path, who, limit=limit, **params, **extra)
        assert len(page["items"]) <= limit
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items
        assert len(page["items"]) == limit


@pytest.mark.parametrize(
    ("path", "key"), [("/organisations", "organisation_id"), ("/leaders", "leader_id")]
)
async def test_pages_follow_one_another_with_no_repeat_and_no_gap(
    d: Directory, repository: Repository, path: str, key: str
) -> None:
    # Names equal but for case tie on lower(name): the id orders them, across page boundaries.
    # The longest name of the widest characters still makes a cursor the list takes back.
    widest = "\U0001f600" * 200
    names = ["alpha", "Alpha", "ALPHA", "beta", "Gamma", "gamma", "delta", "Ελλάδα", "zeta", widest]
    created = [Organisation.register(uuid.uuid4(), n, "other") for n in names]
    created += [Leader.register(uuid.uuid4(), n, None) for n in names]
    await repository.save(*created, context=SEEDER)
    whole = await d.get(path, "admin", limit=200)
    assert whole["next_cursor"] is None and len(whole["items"]) >= len(names) + 3
    for limit in (1, 2, 3, 7):
        assert await every_page(d, path, "admin", limit) == whole["items"]
    assert [i["name"] for i in (await d.get(path, "admin", name="ελλ"))["items"]] == ["Ελλάδα"]
    order = [(i["name"].lower(), i[key]) for i in whole["items"]]
    assert order == sorted(order)
    assert len({i[key] for i in whole["items"]}) == len(whole["items"])


async def test_a_filtered_list_pages_within_the_filter(
    d: Directory, repository: Repository
) -> None:
    created = [Organisation.register(uuid.uuid4(), f"North {i}", "other") for i in range(5)]
    await repository.save(*created, context=SEEDER)
    items = await every_page(d, "/organisations", "eve", 2, name="north")
    assert [i["name"] for i in items] == [
        "North 0",
        "North 1",
        "North 2",
        "North 3",
        "North 4",
        "Northgate NHS Trust",
    ]


async def test_a_cursor_of_another_list_is_a_422_naming_cursor(d: Directory) -> None:
    page = await d.get("/leaders", "admin", limit=1)
    assert page["next_cursor"] is not None
    assert (await d.get("/leaders", "admin", limit=1, cursor=page["next_cursor"]))["items"]
    for path in ("/organisations", "/forums"):
        r = await d.client.get(
            path, params={"cursor": page["next_cursor"]}, headers=await d.as_("admin")
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("path", ["/organisations", "/leaders", "/forums"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMiwzXQ"}, "cursor"),  # [1,2,3]: valid JSON, not a key
        ({"cursor": "WyJhIiwiYiJd"}, "cursor"),  # ["a","b"]: no id
        # ["l","a","<uuid>"] with a NUL in the name: never handed out, never sent on
        (
            {"cursor": "WyJsIiwiYVx1MDAwMCIsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd"},
            "cursor",
        ),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"name": "a\x00b"}, "name"),
        ({"source_system": "crm"}, "external_id"),
        ({"external_id": "17"}, "source_system"),
        ({"min_position": "0"}, "min_position"),
    ],
)
async def test_a_bad_parameter_is_a_422_naming_it(
    d: Directory, path: str, params: dict[str, str], field: str
) -> None:
    r = await d.client.get(path, params=params, headers=await d.as_("amina"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.text


async def test_organisations_filter_by_name_prefix_and_status(d: Directory) -> None:
    assert await d.names("/organisations", "eve", name="NORTH") == ["Northgate NHS Trust"]
    assert await d.names("/organisations", "eve", name="Riverside Council!") == []
    assert await d.names("/organisations", "eve", status="archived") == ["old town trust"]
    assert await d.names("/organisations", "eve", status="active", name="o") == []
    page = await d.get("/organisations", "eve", status="archived")
    [old] = page["items"]
    assert old["successor_id"] == str(d.orgs["river"].id)
    assert old["successor_name"] == "Riverside Council" and old["kind"] == "voluntary"
    r = await d.client.get("/organisations", params={"status": "gone"}, headers=await d.as_("eve"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"


async def test_leaders_filter_by_organisation_name_and_email_with_affiliations_named(
    d: Directory,
) -> None:
    north = str(d.orgs["north"].id)
    # Ben's role with Northgate has ended; only current roles count.
    assert await d.names("/leaders", "admin", organisation_id=north) == ["Amina", "Dara"]
    assert await d.names("/leaders", "amina", organisation_id=north) == ["Amina"]
    assert await d.names("/leaders", "admin", name="A") == ["Amina"]
    assert await d.names("/leaders", "admin", name="b", email="BEN@example.org") == ["Ben"]
    page = await d.get("/leaders", "amina", name="amina")
    [amina] = page["items"]
    assert [(a["organisation_name"], a["title"], a["from_on"]) for a in amina["affiliations"]] == [
        ("Riverside Council", "Director", "2020-01-01"),
        ("Northgate NHS Trust", "Trustee", "2021-01-01"),
    ]
    assert amina["status"] == "active"
    [ben] = (await d.get("/leaders", "amina", name="ben"))["items"]
    assert ben["affiliations"] == []


async def test_forums_filter_by_name_and_count_their_members(d: Directory) -> None:
    [youth] = (await d.get("/forums", "admin", name="youth"))["items"]
    assert youth["forum_id"] == str(d.forums["b"].id)
    assert (youth["timezone"], youth["member_count"]) == ("Pacific/Auckland", 2)
    [warm] = (await d.get("/forums", "admin", name="WARM"))["items"]
    assert warm["member_count"] == 3  # Finn left


async def test_an_external_reference_finds_what_was_created_under_it(d: Directory) -> None:
    crm = {"source_system": "crm"}
    r = await d.client.post(
        "/organisations",
        json={"name": "Harbour Trust", "kind": "voluntary", **crm, "external_id": "org-7"},
        headers={"Authorization": await _named_admin(d)},
    )
    assert r.status_code == 201, r.text
    found = await d.get("/organisations", "eve", **crm, external_id="org-7")
    assert [i["name"] for i in found["items"]] == ["Harbour Trust"]
    assert found["items"][0]["organisation_id"] == r.json()["stream_id"]
    assert (await d.get("/organisations", "eve", **crm, external_id="org-8"))["items"] == []
    assert (await d.get("/organisations", "eve", source_system="erp", external_id="org-7"))[
        "items"
    ] == []

    r = await d.client.post(
        "/leaders",
        json={"name": "Gus", **crm, "external_id": "person-1"},
        headers={"Authorization": await _named_admin(d)},
    )
    assert r.status_code == 201, r.text
    assert await d.names("/leaders", "admin", **crm, external_id="person-1") == ["Gus"]
    # Gus belongs to no forum Amina's token sees: looked up, he is not there for her.
    assert await d.names("/leaders", "amina", **crm, external_id="person-1") == []

    r = await d.client.post(
        "/forums",
        json={
            "name": "Harbour forum",
            "convenor_id": str(d.id("eve")),
            **crm,
            "external_id": "f-1",
        },
        headers={"Authorization": await _named_admin(d)},
    )
    assert r.status_code == 201, r.text
    assert await d.names("/forums", "eve", **crm, external_id="f-1") == ["Harbour forum"]
    assert await d.names("/forums", "amina", **crm, external_id="f-1") == []


async def _named_admin(d: Directory) -> str:
    """An admin token named after the system whose references it records."""
    return "Bearer " + await tokens.issue(d.pool, "crm", "admin")


async def test_a_write_is_listed_at_once_with_its_min_position(d: Directory) -> None:
    admin = await d.as_("admin")
    forum_a = d.forums["a"].id
    for n in range(10):
        r = await d.client.post(
            "/organisations", json={"name": f"Body {n}", "kind": "other"}, headers=admin
        )
        assert r.status_code == 201, r.text
        page = await d.get("/organisations", "eve", name="body", min_position=r.json()["position"])
        assert len(page["items"]) == n + 1
    r = await d.client.post(
        f"/forums/{forum_a}/members", json={"leader_id": str(d.id("eve"))}, headers=admin
    )
    assert r.status_code == 200, r.text
    position = r.json()["position"]
    assert await d.names("/forums", "eve", min_position=position) == ["Warm spaces"]
    assert "Eve" in await d.names("/leaders", "amina", min_position=position)
    r = await d.client.post(
        f"/forums/{forum_a}/member-departures", json={"leader_id": str(d.id("eve"))}, headers=admin
    )
    assert r.status_code == 200, r.text
    position = r.json()["position"]
    assert await d.names("/forums", "eve", min_position=position) == []
    assert "Eve" not in await d.names("/leaders", "amina", min_position=position)


async def test_a_leader_lists_the_latest_affiliations_beside_how_many_are_current(
    d: Directory, repository: Repository
) -> None:
    eve = await repository.read(Leader, d.id("eve"))
    river = d.orgs["river"].id
    for n in range(bounds.AFFILIATIONS + 2):
        eve.record_affiliation(river, f"Role {n}", date(2020, 1, 1))
    await repository.save(eve, context=SEEDER)
    for path, who in (("/leaders", "eve"), ("/me", "eve")):
        found = await d.get(path, who)
        item = found["items"][0] if path == "/leaders" else found["leader"]
        assert item["affiliations_total"] == bounds.AFFILIATIONS + 2
        titles = [a["title"] for a in item["affiliations"]]
        assert titles == [f"Role {n}" for n in range(2, bounds.AFFILIATIONS + 2)]
