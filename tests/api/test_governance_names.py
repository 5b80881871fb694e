"""Names beside ids in the purpose view and the agreements register: current when read, and as
they were then in a view `as_of` a past moment."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.seed import seed_decision_rule
from tests.api.test_leader_view import Views, make_views
from tracker.eventstore.repository import Repository


@pytest.fixture
async def views(client: AsyncTestClient[Litestar], repository: Repository, issue: Tokens) -> Views:
    v = await make_views(client, repository, issue)
    await seed_decision_rule(v.world)
    purpose = v.world.purpose
    assert purpose is not None
    purpose.endorse(v.id("ben"), None)
    await v.save(purpose)
    await v.commit("ben")
    await v.commit("chloe", by="ben")  # only proposed: listed, not a contribution
    return v


async def purpose_view(views: Views, **params: Any) -> dict[str, Any]:
    assert views.world.purpose is not None
    path = f"/purposes/{views.world.purpose.id}/view"
    return await views.get(path, await views.as_("ben"), **params)


async def register(views: Views, **params: Any) -> dict[str, Any]:
    assert views.world.forum is not None
    path = f"/forums/{views.world.forum.id}/agreements"
    return await views.get(path, await views.as_("ben"), **params)


def names_in_purpose_view(view: dict[str, Any]) -> dict[str, Any]:
    """Every name the purpose view shows, by where it shows it."""
    [endorsement] = view["endorsements"]
    [contributor] = view["contributors"]
    [organisation] = view["organisations"]
    lines = view["commitments"]["items"]
    return {
        "forum": view["forum_name"],
        "proposer": view["proposed_by_name"],
        "endorser": endorsement["leader_name"],
        "contributor": (contributor["leader_name"], contributor["organisation_names"]),
        "organisation": (organisation["organisation_name"], organisation["leader_names"]),
        # Made at the same moment, so listed in either order.
        "owners": sorted((x["owner_name"], x["owner_organisation_name"]) for x in lines),
        "requesters": sorted(str(x["requester_name"]) for x in lines),
        "rule_in_force": [a["title"] for a in view["agreements_in_force"]],
    }


async def test_the_purpose_view_and_the_register_name_people_organisations_and_forum(
    views: Views,
) -> None:
    assert names_in_purpose_view(await purpose_view(views)) == {
        "forum": "Warm spaces partnership",
        "proposer": "Amina",
        "endorser": "Ben",
        "contributor": ("Ben", ["Ben Council"]),
        "organisation": ("Ben Council", ["Ben"]),
        "owners": [("Ben", "Ben Council"), ("Chloe", "Chloe Council")],
        "requesters": ["Ben", "None"],
        "rule_in_force": ["Consent of members present"],
    }
    page = await register(views)
    assert page["forum_name"] == "Warm spaces partnership"
    assert [(a["title"], a["proposed_by_name"]) for a in page["agreements"]] == [
        ("Consent of members present", "Amina")
    ]


async def test_renames_show_at_once_and_a_past_view_keeps_the_old_names(views: Views) -> None:
    before = views.position
    world = views.world
    assert world.forum is not None
    world.organisations["ben"].rename("Ben Borough Council")
    world.leaders["amina"].correct_details("Amina Yusuf", "amina@example.org")
    world.leaders["ben"].correct_details("Ben Adeyemi", "ben@example.org")
    world.forum.rename("Warm homes partnership")
    await views.save(world.organisations["ben"], world.leaders["amina"], world.leaders["ben"])
    await views.save(world.forum)

    now = names_in_purpose_view(await purpose_view(views))
    assert now["forum"] == "Warm homes partnership" and now["proposer"] == "Amina Yusuf"
    assert now["endorser"] == "Ben Adeyemi"
    assert now["contributor"] == ("Ben Adeyemi", ["Ben Borough Council"])
    assert now["owners"][0] == ("Ben Adeyemi", "Ben Borough Council")
    assert now["requesters"] == ["Ben Adeyemi", "None"]
    page = await register(views)
    assert page["forum_name"] == "Warm homes partnership"
    assert page["agreements"][0]["proposed_by_name"] == "Amina Yusuf"

    then = names_in_purpose_view(await purpose_view(views, as_of=before))
    assert then["forum"] == "Warm spaces partnership" and then["proposer"] == "Amina"
    assert then["contributor"] == ("Ben", ["Ben Council"])
    page_then = await register(views, as_of=before)
    assert page_then["forum_name"] == "Warm spaces partnership"
    assert page_then["agreements"][0]["proposed_by_name"] == "Amina"
