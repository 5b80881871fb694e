"""Application fixtures: the use cases over the real store, and a forum to act in."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec
import pytest

from tests.clock import Clock
from tracker.application import forums, leaders, purposes
from tracker.application.commands import Commands, Request
from tracker.application.principal import ADMIN, AUDITOR, INTEGRATION, LEADER, Principal
from tracker.eventstore.repository import Repository


def caller(kind: str, leader_id: UUID | None = None) -> Principal:
    """A principal of this kind (a leader principal acts as leader_id)."""
    return Principal(kind=kind, token_id=uuid.uuid4(), name=f"test-{kind}", leader_id=leader_id)


def as_leader(leader_id: UUID) -> Request:
    """A command sent by the leader themselves."""
    return Request(principal=caller(LEADER, leader_id))


def as_kind(kind: str, on_behalf_of: UUID | None = None) -> Request:
    """A command sent by an admin, an auditor or an integration (on behalf of a leader)."""
    principal = msgspec.structs.replace(caller(kind), on_behalf_of=on_behalf_of)
    return Request(principal=principal)


ADMIN_CALL = as_kind(ADMIN)
AUDITOR_CALL = as_kind(AUDITOR)
RECORDER_CALL = as_kind(INTEGRATION)


@pytest.fixture
def app(repository: Repository, clock: Clock) -> Commands:
    """The service layer every use case runs through, on the test clock."""
    return Commands(repository, clock)


class Forum(msgspec.Struct, kw_only=True):
    """A forum with a convenor, two members, an outsider and an adopted purpose."""

    id: UUID
    convenor: UUID
    member: UUID
    other_member: UUID
    outsider: UUID
    purpose: UUID


async def new_leader(app: Commands, name: str) -> UUID:
    """A leader registered by an administrator."""
    leader_id = uuid.uuid4()
    command = leaders.RegisterLeader(leader_id=leader_id, name=name)
    await leaders.register(app, ADMIN_CALL, command)
    return leader_id


async def new_forum(app: Commands, convenor: UUID, *members: UUID) -> UUID:
    """A forum convened by an administrator, its members admitted."""
    forum_id = uuid.uuid4()
    command = forums.ConveneForum(
        forum_id=forum_id, name="Warm Spaces", convenor_id=convenor, timezone="Europe/London"
    )
    await forums.convene(app, ADMIN_CALL, command)
    for leader_id in members:
        await forums.admit(
            app, ADMIN_CALL, forums.Membership(forum_id=forum_id, leader_id=leader_id)
        )
    return forum_id


async def new_purpose(app: Commands, forum_id: UUID, by: UUID) -> UUID:
    """A purpose a member proposed to the forum."""
    purpose_id = uuid.uuid4()
    command = purposes.ProposePurpose(
        purpose_id=purpose_id, forum_id=forum_id, statement="Nobody is cold and alone"
    )
    await purposes.propose(app, as_leader(by), command)
    return purpose_id


@pytest.fixture
async def forum(app: Commands) -> Forum:
    """The forum most tests act in."""
    convenor = await new_leader(app, "Amina Khan")
    member = await new_leader(app, "Ben Okafor")
    other_member = await new_leader(app, "Chloe Price")
    outsider = await new_leader(app, "Dev Patel")
    forum_id = await new_forum(app, convenor, member, other_member)
    purpose = await new_purpose(app, forum_id, member)
    return Forum(
        id=forum_id,
        convenor=convenor,
        member=member,
        other_member=other_member,
        outsider=outsider,
        purpose=purpose,
    )
