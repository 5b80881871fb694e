"""The directory lists and GET /me with as_of over the real app: the past as it stood, seen with
today's access, and a bad as_of refused naming it."""

from __future__ import annotations

import asyncpg
import pytest

from tests.api.directory_world import Client, Directory
from tests.api.seed import SEEDER
from tracker.domain import Forum, Organisation
from tracker.eventstore.repository import Repository

LISTS = ("/organisations", "/leaders", "/forums", "/me")


@pytest.fixture
async def d(client: Client, repository: Repository, pool: asyncpg.Pool) -> Directory:
    world = Directory(client, repository, pool)
    await world.seed()
    return world


async def changed(d: Directory, repository: Repository) -> str:
    """The cut after seeding; then chloe leaves forum B, eve joins forum A, names change."""
    cut = str(await d.position())
    await d.get("/forums", "admin")  # the views have the cut
    a = await repository.get(Forum, d.forums["a"].id)
    b = await repository.get(Forum, d.forums["b"].id)
    river = await repository.get(Organisation, d.orgs["river"].id)
    b.leave(d.id("chloe"))
    a.join(d.id("eve"))
    a.rename("Warm spaces network")
    river.rename("Riverside City Council")
    await repository.save(a, b, river, context=SEEDER)
    return cut


@pytest.mark.parametrize("path", LISTS)
async def test_as_of_the_newest_event_equals_the_live_answer(d: Directory, path: str) -> None:
    for who in ("admin", "amina", "chloe", "limited_b", "eve"):
        live = await d.get(path, who)
        assert await d.get(path, who, as_of=await d.position()) == live, (path, who)


async def test_the_lists_as_of_a_past_cut_show_the_names_of_then(
    d: Directory, repository: Repository
) -> None:
    cut = await changed(d, repository)
    assert "Warm spaces network" in await d.names("/forums", "admin")
    assert "Warm spaces" in await d.names("/forums", "admin", as_of=cut)
    assert "Riverside Council" in await d.names("/organisations", "eve", as_of=cut)
    amina = (await d.get("/leaders", "admin", as_of=cut, name="amina"))["items"][0]
    assert [a["organisation_name"] for a in amina["affiliations"]] == [
        "Riverside Council",
        "Northgate NHS Trust",
    ]
    members = await d.names("/leaders", "admin", as_of=cut, forum_id=d.forums["a"].id)
    assert "Eve" not in members and "Eve" in await d.names(
        "/leaders", "admin", forum_id=d.forums["a"].id
    )


async def test_as_of_the_past_no_caller_sees_what_it_may_not_see_now(
    d: Directory, repository: Repository
) -> None:
    cut = await changed(d, repository)
    # chloe belonged to forum B then, and no longer does: its forum and dara are hidden.
    assert await d.names("/forums", "chloe", as_of=cut) == ["Warm spaces"]
    assert "Dara" not in await d.names("/leaders", "chloe", as_of=cut)
    me = await d.get("/me", "chloe", as_of=cut)
    assert [f["name"] for f in me["leader"]["forums"]] == ["Warm spaces"]
    b_members = await d.names("/leaders", "chloe", as_of=cut, forum_id=d.forums["b"].id)
    assert b_members == []
    # eve joined forum A since: she sees it as it was then, but was in no forum then herself.
    assert await d.names("/forums", "eve", as_of=cut) == ["Warm spaces"]
    assert "Amina" in await d.names("/leaders", "eve", as_of=cut)
    assert (await d.get("/me", "eve", as_of=cut))["leader"]["forums"] == []
    # An integration limited to forum B sees forum B's members of now, as they were then.
    assert "Chloe" not in await d.names("/leaders", "limited_b", as_of=cut)
    # Emails follow today's stewardship: ben (recorder of A) sees eve's, who joined since.
    eve = (await d.get("/leaders", "ben", as_of=cut, name="eve"))["items"]
    assert eve and eve[0]["email"] == "eve@Example.org"
    dara = await d.get("/leaders", "ben", as_of=cut, name="dara")
    assert dara["items"] == []


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("as_of", ["soon", "0", "2026-13-01T00:00:00Z", "99999999999"])
async def test_a_bad_as_of_is_a_422_naming_it(d: Directory, path: str, as_of: str) -> None:
    problem = await d.get(path, "amina", expect=422, as_of=as_of)
    assert [e["field"] for e in problem["errors"]] == ["as_of"], problem
