"""The contract: a client generated from openapi/openapi.json drives a workflow, by itself alone.

The client is generated the way a partner would make one, and the test fails on any warning
from the generator, since a warning means part of the API is missing from the client. Every
step of the workflow goes through the generated client against a real `tracker serve`; only
the world it starts from (leaders, a forum, a purpose, tokens) is set up directly, and the
workflow knows none of its ids: it finds each through the API, starting from `GET /me`.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from tests.api.seed import seed_world
from tests.contract.client import generate
from tracker import tokens
from tracker.eventstore.repository import Repository

# Fixed, within the accepted span; no step depends on how it relates to today.
STARTS_AT = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


@dataclass
class Workflow:
    """What the steps share: the generated package, one client per caller, ids found so far."""

    api: ModuleType
    server: str
    secrets: dict[str, str]
    ids: dict[str, uuid.UUID]
    seen: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, caller: str) -> Any:
        """The generated client authenticated as one of the setup's callers."""
        if caller not in self.clients:
            client = self.api.AuthenticatedClient(base_url=self.server, token=self.secrets[caller])
            self.clients[caller] = client.__enter__()
        return self.clients[caller]

    def close(self) -> None:
        """Close every client's connections."""
        for client in self.clients.values():
            client.__exit__(None, None, None)

    def call(self, module: str, caller: str, **arguments: Any) -> Any:
        """Call one generated operation (`meetings.schedule_meeting`), returning the response."""
        package, operation = module.split(".")
        api = sys.modules[f"{self.api.__name__}.api.{package}.{operation}"]
        return api.sync_detailed(client=self.client(caller), **arguments)

    def model(self, name: str) -> Any:
        """A model class of the generated client."""
        return getattr(self.api.models, name)


def discover_yourself(flow: Workflow) -> None:
    """A leader's token says who they are and which forums they are in, with their roles."""
    # The world was written just now: min_position waits until the views have it.
    answer = flow.call("directory.get_me", "amina", min_position=flow.seen["seeded"])
    assert answer.status_code == 200, answer.content
    me = answer.parsed
    assert me.kind == "leader" and me.leader.name == "Amina"
    flow.ids["amina"] = me.leader.leader_id
    (forum,) = me.leader.forums
    assert "convenor" in forum.roles
    flow.seen["forum name"] = forum.name


def find_your_forum(flow: Workflow) -> None:
    """The forum list, by default the caller's own, gives the forum's id."""
    answer = flow.call("directory.list_forums", "amina", name="Warm")
    assert answer.status_code == 200, answer.content
    (forum,) = answer.parsed.items
    assert forum.name == flow.seen["forum name"]
    flow.ids["forum"] = forum.forum_id


def find_the_members_and_the_purpose(flow: Workflow) -> None:
    """The forum's members and purposes are listed by name, a page at a time."""
    answer = flow.call("directory.list_leaders", "amina", forum_id=flow.ids["forum"], limit=1)
    assert answer.status_code == 200, answer.content
    found = list(answer.parsed.items)
    while isinstance(answer.parsed.next_cursor, str):
        arguments = {"forum_id": flow.ids["forum"], "limit": 1, "cursor": answer.parsed.next_cursor}
        answer = flow.call("directory.list_leaders", "amina", **arguments)
        assert answer.status_code == 200, answer.content
        found += answer.parsed.items
    names = [leader.name for leader in found]
    assert names == sorted(names) and {"Amina", "Ben"} <= set(names)
    flow.ids |= {leader.name.lower(): leader.leader_id for leader in found}
    answer = flow.call("views.list_forum_purposes", "amina", forum_id=flow.ids["forum"])
    assert answer.status_code == 200, answer.content
    (purpose,) = answer.parsed.items
    flow.ids["purpose"] = purpose.purpose_id


def schedule_meeting(flow: Workflow) -> None:
    """A steward schedules a meeting of the forum: 201 with where it is."""
    body = flow.model("ScheduleMeeting")(
        forum_id=flow.ids["forum"], starts_at=STARTS_AT, title="November", location="Town Hall"
    )
    answer = flow.call("meetings.schedule_meeting", "amina", body=body)
    assert answer.status_code == 201, answer.content
    meeting_id = answer.parsed.stream_id
    assert answer.headers["Location"] == f"/meetings/{meeting_id}"
    flow.ids["meeting"] = meeting_id


def record_minutes_and_replay(flow: Workflow) -> None:
    """Minutes with an Idempotency-Key; the retry is the first answer, marked replayed."""
    models = flow.model
    body = models("Minutes")(
        attendance=[
            models("Attendee")(
                leader_id=flow.ids["amina"], status=models("AttendeeStatus")("attended")
            ),
            models("Attendee")(
                leader_id=flow.ids["ben"], status=models("AttendeeStatus")("attended")
            ),
        ],
        commitments=[
            models("MinutesCommitment")(
                description="Open the library on weekday evenings",
                owner_id=flow.ids["ben"],
                purpose_ids=[flow.ids["purpose"]],
            )
        ],
    )
    key = f"minutes-{flow.ids['meeting']}"
    arguments = {"meeting_id": flow.ids["meeting"], "body": body, "idempotency_key": key}
    first = flow.call("meetings.record_meeting_minutes", "amina", **arguments)
    assert first.status_code == 200, first.content
    assert "Idempotent-Replayed" not in first.headers
    again = flow.call("meetings.record_meeting_minutes", "amina", **arguments)
    assert again.status_code == 200, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.parsed.commitments[0].stream_id == first.parsed.commitments[0].stream_id
    flow.ids["minuted"] = first.parsed.commitments[0].stream_id
    flow.seen["position"] = first.parsed.meeting.position


def stale_if_match_is_a_412_problem(flow: Workflow) -> None:
    """A command conditional on a version the meeting has moved past: 412, a Problem model."""
    current = flow.call("meetings.get_meeting", "amina", meeting_id=flow.ids["meeting"])
    assert current.status_code == 200, current.content
    etag = current.headers["ETag"]
    version = int(etag.strip('"'))
    assert version > 1
    body = flow.model("Invitation")(leader_ids=[flow.ids["chloe"]])
    answer = flow.call(
        "meetings.invite_to_meeting",
        "amina",
        meeting_id=flow.ids["meeting"],
        body=body,
        if_match='"1"',
    )
    assert answer.status_code == 412, answer.content
    assert isinstance(answer.parsed, flow.model("Problem"))
    assert answer.parsed.current_version == version
    assert answer.headers["ETag"] == etag
    fresh = flow.call(
        "meetings.invite_to_meeting",
        "amina",
        meeting_id=flow.ids["meeting"],
        body=body,
        if_match=etag,
    )
    assert fresh.status_code == 200, fresh.content
    assert fresh.parsed.version == version + 1


def integration_acts_for_a_leader(flow: Workflow) -> None:
    """An integration records a commitment on behalf of a member, who is its requester."""
    body = flow.model("MakeCommitment")(
        description="Lend the community hall's heaters",
        forum_id=flow.ids["forum"],
        owner_id=flow.ids["chloe"],
        purpose_ids=[flow.ids["purpose"]],
    )
    answer = flow.call(
        "commitments.make_commitment",
        "integration",
        body=body,
        on_behalf_of=str(flow.ids["ben"]),
        idempotency_key="heaters",
    )
    assert answer.status_code == 201, answer.content
    commitment_id = answer.parsed.stream_id
    read = flow.call("commitments.get_commitment", "amina", commitment_id=commitment_id)
    assert read.status_code == 200, read.content
    assert read.parsed.requester_id == flow.ids["ben"]
    assert read.parsed.owner_id == flow.ids["chloe"]
    flow.ids["requested"] = commitment_id
    flow.seen["position"] = answer.parsed.position


def read_the_leader_view(flow: Workflow) -> None:
    """The owner's view lists what was asked of them, once the view has the last write."""
    answer = flow.call(
        "views.get_leader_commitments",
        "chloe",
        leader_id=flow.ids["chloe"],
        min_position=flow.seen["position"],
    )
    assert answer.status_code == 200, answer.content
    listed = answer.parsed.to_dict()
    assert str(flow.ids["requested"]) in str(listed)


def read_the_purpose_view(flow: Workflow) -> None:
    """The purpose's view counts both commitments made toward it."""
    answer = flow.call(
        "views.get_purpose_view",
        "amina",
        purpose_id=flow.ids["purpose"],
        min_position=flow.seen["position"],
    )
    assert answer.status_code == 200, answer.content
    shown = str(answer.parsed.to_dict())
    assert str(flow.ids["minuted"]) in shown
    assert str(flow.ids["requested"]) in shown


def read_the_meeting_view(flow: Workflow) -> None:
    """The meeting's view shows the commitment made in the room."""
    answer = flow.call(
        "views.get_meeting_view",
        "amina",
        meeting_id=flow.ids["meeting"],
        min_position=flow.seen["position"],
    )
    assert answer.status_code == 200, answer.content
    assert str(flow.ids["minuted"]) in str(answer.parsed.to_dict())


def read_the_leader(flow: Workflow) -> None:
    """A leader reads themself, email included, with the version as the ETag."""
    answer = flow.call("leaders.get_leader", "ben", leader_id=flow.ids["ben"])
    assert answer.status_code == 200, answer.content
    assert answer.parsed.email == "ben@example.org"
    assert answer.headers["ETag"] == f'"{answer.parsed.version}"'


def refusals_are_problems(flow: Workflow) -> None:
    """Refusals the document declares arrive as Problem models naming what was wrong."""
    problem = flow.model("Problem")
    # A leader cannot name another leader to act for: a 400 naming the header.
    body = flow.model("Invitation")(leader_ids=[flow.ids["chloe"]])
    answer = flow.call(
        "meetings.invite_to_meeting",
        "amina",
        meeting_id=flow.ids["meeting"],
        body=body,
        on_behalf_of=str(flow.ids["ben"]),
    )
    assert answer.status_code == 400, answer.content
    assert isinstance(answer.parsed, problem)
    assert answer.parsed.errors[0].field == "On-Behalf-Of"
    # A query parameter out of bounds is a 422 naming it, not a 400.
    answer = flow.call(
        "views.get_leader_commitments", "chloe", leader_id=flow.ids["chloe"], limit=0
    )
    assert answer.status_code == 422, answer.content
    assert isinstance(answer.parsed, problem)
    assert answer.parsed.errors[0].field == "limit"
    # A body beyond the server's limit is a 413.
    comment = flow.model("CommentBody")(text="x" * (10 * 2**20 + 1))
    answer = flow.call(
        "commitments.comment_on_commitment",
        "ben",
        commitment_id=flow.ids["minuted"],
        body=comment,
    )
    assert answer.status_code == 413, answer.content
    assert isinstance(answer.parsed, problem)


# In order: each step may use what the ones before it found.
STEPS: list[Callable[[Workflow], None]] = [
    discover_yourself,
    find_your_forum,
    find_the_members_and_the_purpose,
    schedule_meeting,
    record_minutes_and_replay,
    stale_if_match_is_a_412_problem,
    integration_acts_for_a_leader,
    read_the_leader_view,
    read_the_purpose_view,
    read_the_meeting_view,
    read_the_leader,
    refusals_are_problems,
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, str]:
    return generate(tmp_path_factory.mktemp("client"))


def test_the_generator_warns_of_nothing(generated: tuple[ModuleType, str]) -> None:
    _, output = generated
    assert "warning" not in output.lower(), output


async def test_a_workflow_through_the_generated_client(
    generated: tuple[ModuleType, str],
    repository: Repository,
    pool: asyncpg.Pool,
    server: str,
    tmp_path: Path,
) -> None:
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    secrets = {
        name: await tokens.issue(pool, f"contract-{name}", "leader", world.id(name))
        for name in world.leaders
    }
    secrets["integration"] = await tokens.issue(pool, "minutes-tool", "integration")
    # The workflow starts from the tokens alone: every id it uses, it finds through the API.
    flow = Workflow(api=generated[0], server=server, secrets=secrets, ids={})
    flow.seen["seeded"] = await pool.fetchval("SELECT max(position) FROM events")
    try:
        for step in STEPS:
            step(flow)
    finally:
        flow.close()
