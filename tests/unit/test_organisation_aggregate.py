"""Organisations: registered, renamed, succeeded by another when bodies merge, archived."""

from uuid import uuid4

import pytest

from tracker.domain import IllegalTransition, InvalidValue, Organisation


@pytest.fixture
def trust(replayed):
    return replayed(Organisation.register(uuid4(), "Northfield Community NHS Trust", "nhs"))


def test_an_organisation_is_registered_with_a_kind():
    organisation = Organisation.register(uuid4(), "Northfield Council", "council")

    [registered] = organisation.collect_events()
    assert isinstance(registered, Organisation.Registered)
    assert (registered.name, registered.kind) == ("Northfield Council", "council")
    assert organisation.status == "active"


def test_an_organisation_kind_comes_from_the_list():
    with pytest.raises(InvalidValue) as refused:
        Organisation.register(uuid4(), "Northfield Council", "quango")
    assert refused.value.field == "kind"


def test_an_organisation_needs_a_name():
    with pytest.raises(InvalidValue):
        Organisation.register(uuid4(), "", "council")


def test_an_organisation_is_renamed(trust):
    trust.rename("Northfield and District NHS Trust")

    [renamed] = trust.collect_events()
    assert isinstance(renamed, Organisation.Renamed)
    assert trust.name == "Northfield and District NHS Trust"


def test_renaming_to_the_same_name_is_refused(trust):
    with pytest.raises(InvalidValue):
        trust.rename(trust.name)


def test_a_successor_is_recorded_when_bodies_merge(trust):
    successor = uuid4()

    trust.record_successor(successor)

    [recorded] = trust.collect_events()
    assert isinstance(recorded, Organisation.SuccessorRecorded)
    assert trust.successor_id == successor


def test_an_organisation_cannot_succeed_itself(trust):
    with pytest.raises(InvalidValue):
        trust.record_successor(trust.id)


def test_a_successor_is_recorded_once(trust):
    trust.record_successor(uuid4())

    with pytest.raises(InvalidValue):
        trust.record_successor(uuid4())


def test_an_organisation_is_archived(trust):
    trust.archive("Merged into the ICB")

    [archived] = trust.collect_events()
    assert isinstance(archived, Organisation.Archived)
    assert trust.status == "archived"


def test_a_successor_can_be_recorded_after_archiving(trust):
    trust.archive()

    trust.record_successor(uuid4())

    assert trust.successor_id is not None


@pytest.mark.parametrize("command", ["rename", "archive"])
def test_an_archived_organisation_is_not_changed(trust, command):
    trust.archive()
    arguments = {"name": "New"} if command == "rename" else {}

    with pytest.raises(IllegalTransition) as refused:
        getattr(trust, command)(**arguments)

    assert refused.value.state == "archived"
