"""Succession between organisations: recorded by administrators, never in a loop."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from tests.application.conftest import ADMIN_CALL, as_leader
from tracker.application import organisations
from tracker.application.commands import Commands
from tracker.domain import InvalidValue, NotAllowed, Organisation
from tracker.eventstore.repository import Repository


async def registered(app: Commands, name: str) -> UUID:
    organisation_id = uuid.uuid4()
    command = organisations.RegisterOrganisation(
        organisation_id=organisation_id, name=name, kind="council"
    )
    await organisations.register(app, ADMIN_CALL, command)
    return organisation_id


async def succeed(app: Commands, organisation_id: UUID, successor_id: UUID) -> None:
    command = organisations.RecordSuccessor(
        organisation_id=organisation_id, successor_id=successor_id
    )
    await organisations.record_successor(app, ADMIN_CALL, command)


async def test_a_successor_is_recorded_on_the_organisation(
    app: Commands, repository: Repository
) -> None:
    old, new = await registered(app, "Old Council"), await registered(app, "New Council")
    await succeed(app, old, new)
    assert (await repository.get(Organisation, old)).successor_id == new


async def test_a_succession_that_leads_back_to_the_organisation_is_refused(
    app: Commands,
) -> None:
    first, second, third = [await registered(app, f"Council {i}") for i in range(3)]
    await succeed(app, first, second)
    await succeed(app, second, third)
    with pytest.raises(InvalidValue) as refused:
        await succeed(app, third, first)
    assert refused.value.field == "successor_id"


async def test_the_loop_check_walks_the_successors_line(
    app: Commands, repository: Repository
) -> None:
    first, second, third = [await registered(app, f"Council {i}") for i in range(3)]
    await succeed(app, second, third)
    successor = await repository.read(Organisation, second)
    assert not await organisations.succession_would_loop(repository, first, successor)
    assert await organisations.succession_would_loop(repository, third, successor)


async def test_an_unknown_successor_is_the_successor_fields_error(app: Commands) -> None:
    organisation_id = await registered(app, "Old Council")
    with pytest.raises(InvalidValue) as refused:
        await succeed(app, organisation_id, uuid.uuid4())
    assert refused.value.field == "successor_id"


async def test_only_administrators_record_successors(app: Commands) -> None:
    old, new = await registered(app, "Old Council"), await registered(app, "New Council")
    command = organisations.RecordSuccessor(organisation_id=old, successor_id=new)
    with pytest.raises(NotAllowed) as refused:
        await organisations.record_successor(app, as_leader(uuid.uuid4()), command)
    assert refused.value.rule == "only-admins-can-record-successors"
