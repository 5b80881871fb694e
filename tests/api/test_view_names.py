"""Names beside ids in the leader view and the commitment list: current when read, and as they
were then in a view `as_of` a past moment."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.test_leader_view import Views, make_views
from tracker.domain import Commitment
from tracker.eventstore.repository import Repository


@pytest.fixture
async def views(client: AsyncTestClient[Litestar], repository: Repository, issue: Tokens) -> Views:
    return await make_views(client, repository, issue)


def item_of(view: dict[str, Any], c: Commitment) -> dict[str, Any]:
    """The one listed item for the commitment, in any group."""
    groups = view["groups"].values() if "groups" in view else [view["items"]]
    [found] = [i for items in groups for i in items if i["commitment_id"] == str(c.id)]
    return dict(found)


async def listed_item(views: Views, c: Commitment, **params: Any) -> dict[str, Any]:
    page = await views.get("/commitments", await views.as_("auditor"), **params)
    return item_of(page, c)


async def asked_of_ben(views: Views) -> Commitment:
    """Amina asks Ben for something, he accepts and offers it on to Chloe."""
    c = await views.commit("ben", by="amina", due_on=date(2026, 12, 1))
    c.accept(views.id("ben"))
    c.offer_handover(views.id("ben"), views.id("chloe"))
    await views.save(c)
    return c


async def test_the_leader_view_and_the_list_name_people_organisation_forum_and_purpose(
    views: Views,
) -> None:
    c = await asked_of_ben(views)
    for item in (item_of(await views.view("ben"), c), await listed_item(views, c)):
        assert item["owner_name"] == "Ben"
        assert item["owner_organisation_name"] == "Ben Council"
        assert item["owner_role"] == "Director"
        assert item["requester_name"] == "Amina"
        assert item["handover_to_name"] == "Chloe"
        assert item["forum_name"] == "Warm spaces partnership"
        assert views.world.purpose is not None
        assert item["purposes"] == [
            {"purpose_id": str(views.world.purpose.id), "statement": "Nobody is cold this winter"}
        ]
        assert item["meeting_title"] is None and item["meeting_starts_at"] is None


async def test_a_rename_shows_at_once_and_a_past_view_keeps_the_old_names(views: Views) -> None:
    c = await asked_of_ben(views)
    before = views.position
    world = views.world
    assert world.purpose is not None and world.forum is not None
    world.organisations["ben"].rename("Ben Borough Council")
    world.leaders["amina"].correct_details("Amina Yusuf", "amina@example.org")
    world.purpose.revise(views.id("amina"), "Nobody is cold, this winter or next", "longer")
    world.forum.rename("Warm homes partnership")
    await views.save(*world.organisations.values(), *world.leaders.values())
    await views.save(world.purpose, world.forum)

    for item in (item_of(await views.view("ben"), c), await listed_item(views, c)):
        assert item["owner_organisation_name"] == "Ben Borough Council"
        assert item["requester_name"] == "Amina Yusuf"
        assert item["purposes"][0]["statement"] == "Nobody is cold, this winter or next"
        assert item["forum_name"] == "Warm homes partnership"

    past = item_of(await views.view("ben", who="auditor", as_of=before), c)
    listed_then = await listed_item(views, c, as_of=before)
    for item in (past, listed_then):
        assert item["owner_organisation_name"] == "Ben Council"
        assert item["requester_name"] == "Amina"
        assert item["purposes"][0]["statement"] == "Nobody is cold this winter"
        assert item["forum_name"] == "Warm spaces partnership"


async def test_one_commitment_reads_with_names_now_and_as_of_before_a_rename(
    views: Views,
) -> None:
    c = await asked_of_ben(views)
    path = f"/commitments/{c.id}"
    one = await views.get(path, await views.as_("ben"))
    assert (one["owner_name"], one["requester_name"], one["handover_to_name"]) == (
        "Ben",
        "Amina",
        "Chloe",
    )
    assert one["made_by_name"] == "Amina" and one["forum_name"] == "Warm spaces partnership"
    assert one["owner_organisation_id"] == str(views.world.organisations["ben"].id)
    assert (one["owner_organisation_name"], one["owner_role"]) == ("Ben Council", "Director")
    assert one["purposes"][0]["statement"] == "Nobody is cold this winter"

    before = views.position
    views.world.leaders["ben"].correct_details("Benedict Okafor", None)
    await views.save(views.world.leaders["ben"])
    await views.view("ben")  # the views have caught up with the correction
    assert (await views.get(path, await views.as_("ben")))["owner_name"] == "Benedict Okafor"
    then = await views.get(path, await views.as_("ben"), as_of=before)
    assert then["owner_name"] == "Ben"
