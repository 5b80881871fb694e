"""Names beside ids in the meeting view: current when read, and as they were then in a view
`as_of` a past moment."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.api.test_meeting_view import History, a_forum_that_meets
from tests.clock import Clock
from tracker.eventstore.repository import Repository

Client = AsyncTestClient[Litestar]


async def names_in_view(
    client: Client, issue: Tokens, forum: History, **params: Any
) -> dict[str, Any]:
    """Every name the November meeting's view shows for Ben, Chloe and Dana, by where."""
    world = forum.world
    headers = await issue.headers("leader", world.id("amina"))
    r = await client.get(
        f"/meetings/{forum.meetings['november'].id}/view", params=params, headers=headers
    )
    assert r.status_code == 200, r.text
    view = r.json()
    attendees = {
        a["leader_id"]: a["leader_name"] for g in view["attendees"] for a in g["attendees"]
    }
    [made] = view["commitments_made"]
    [moving] = [
        x
        for x in view["since_previous"]["new"]
        if x["commitment_id"] == str(forum.commitments["moving"].id)
    ]
    return {
        "attendee": attendees[str(world.id("ben"))],
        "apology": [a["leader_name"] for a in view["apologies"]],
        "made": (made["owner_name"], made["owner_organisation_name"], made["owner_role"]),
        "carried": (moving["owner_name"], moving["owner_organisation_name"]),
        "actors": [ch["actor_name"] for ch in moving["changes"]],
    }


async def test_the_meeting_view_names_people_and_a_corrected_name_shows_at_once(
    client: Client, issue: Tokens, repository: Repository, clock: Clock
) -> None:
    forum, at = await a_forum_that_meets(repository, clock)
    assert await names_in_view(client, issue, forum, min_position=at) == {
        "attendee": "Ben",
        "apology": ["Chloe"],
        "made": ("Dana", None, None),
        "carried": ("Ben", "Ben Council"),
        # Seeded by an integration: named by the name after its kind.
        "actors": ["test-seed", "test-seed"],
    }

    ben = forum.world.id("ben")
    r = await client.post(
        f"/leaders/{ben}/details-corrections",
        json={"name": "Ben Adeyemi"},
        headers=await issue.headers("admin"),
    )
    assert r.status_code == 200, r.text

    now = await names_in_view(client, issue, forum, min_position=r.json()["position"])
    assert (now["attendee"], now["carried"]) == ("Ben Adeyemi", ("Ben Adeyemi", "Ben Council"))
    # The rest are as they were: only Ben's name changed.
    assert (now["apology"], now["made"]) == (["Chloe"], ("Dana", None, None))
    then = await names_in_view(client, issue, forum, as_of=str(at))
    assert (then["attendee"], then["carried"]) == ("Ben", ("Ben", "Ben Council"))
