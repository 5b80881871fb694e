"""Leaders: people, with dated affiliations that give context but no rights."""

from datetime import date
from uuid import uuid4

import pytest

from tracker.domain import AffiliationSnapshot, IllegalTransition, InvalidValue, Leader

COUNCIL = uuid4()
CHARITY = uuid4()


@pytest.fixture
def leader(replayed):
    return replayed(Leader.register(uuid4(), "Amira Khan", "amira@example.org"))


@pytest.fixture
def unsaved():
    """A leader whose every event, from registration on, is still pending."""
    return Leader.register(uuid4(), "Amira Khan", "amira@example.org")


def test_a_leader_is_registered():
    leader = Leader.register(uuid4(), "Amira Khan")

    [registered] = leader.collect_events()
    assert isinstance(registered, Leader.Registered)
    assert (leader.name, leader.email, leader.status) == ("Amira Khan", None, "active")


def test_a_leader_needs_a_name():
    with pytest.raises(InvalidValue):
        Leader.register(uuid4(), "")


def test_an_email_must_look_like_one():
    with pytest.raises(InvalidValue) as refused:
        Leader.register(uuid4(), "Amira Khan", "amira")
    assert refused.value.field == "email"


def test_an_affiliation_is_recorded_from_a_date(leader):
    leader.record_affiliation(COUNCIL, "Head of Adult Social Care", date(2024, 4, 1))

    [recorded] = leader.collect_events()
    assert isinstance(recorded, Leader.AffiliationRecorded)
    assert recorded.title == "Head of Adult Social Care"
    assert leader.affiliation_on(date(2024, 4, 1)).organisation_id == COUNCIL
    assert leader.affiliation_on(date(2024, 3, 31)) is None


def test_the_same_role_with_the_same_organisation_is_not_recorded_twice(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))

    with pytest.raises(InvalidValue) as refused:
        leader.record_affiliation(COUNCIL, " director ", date(2024, 5, 1))

    assert refused.value.field == "title"


def test_a_leader_holds_several_roles_with_one_organisation_at_once(unsaved, replayed):
    leader = unsaved
    leader.record_affiliation(COUNCIL, "GP partner", date(2024, 4, 1))
    leader.record_affiliation(COUNCIL, "Clinical director", date(2024, 6, 1))

    again = replayed(leader)

    held = again.affiliations_on(date(2024, 7, 1))
    assert [(a.organisation_id, a.title) for a in held] == [
        (COUNCIL, "GP partner"),
        (COUNCIL, "Clinical director"),
    ]


def test_the_same_role_may_not_overlap_an_ended_one(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))
    leader.end_affiliation(COUNCIL, date(2024, 12, 31))

    with pytest.raises(InvalidValue) as refused:
        leader.record_affiliation(COUNCIL, "Director", date(2024, 12, 1))
    assert refused.value.field == "title"

    leader.record_affiliation(COUNCIL, "Director", date(2025, 1, 1))
    assert len(leader.open_affiliations(COUNCIL)) == 1


def test_with_several_roles_an_ending_names_the_role(unsaved, replayed):
    leader = unsaved
    leader.record_affiliation(COUNCIL, "GP partner", date(2024, 4, 1))
    leader.record_affiliation(COUNCIL, "Clinical director", date(2024, 6, 1))

    with pytest.raises(InvalidValue) as refused:
        leader.end_affiliation(COUNCIL, date(2025, 1, 31))
    assert refused.value.field == "title"
    assert "(Clinical director, GP partner)" in refused.value.reason

    leader.end_affiliation(COUNCIL, date(2025, 1, 31), title="clinical DIRECTOR")
    ended = leader.pending_events[-1]
    assert (ended.title, ended.to_on) == ("Clinical director", date(2025, 1, 31))
    again = replayed(leader)
    assert [a.title for a in again.open_affiliations(COUNCIL)] == ["GP partner"]
    assert [a.title for a in again.affiliations_on(date(2025, 2, 1))] == ["GP partner"]


def test_ending_a_role_not_held_names_the_title(leader):
    leader.record_affiliation(COUNCIL, "GP partner", date(2024, 4, 1))

    with pytest.raises(InvalidValue) as refused:
        leader.end_affiliation(COUNCIL, date(2025, 1, 31), title="Trustee")
    assert refused.value.field == "title"


def test_an_ending_from_before_several_roles_is_upcast_to_end_the_one_role():
    state = {"organisation_id": COUNCIL, "to_on": date(2025, 1, 31)}

    Leader.AffiliationEnded.upcast_v1_v2(state)

    assert state["title"] is None
    assert Leader.AffiliationEnded.class_version == 2


def test_a_v1_ending_replays_by_organisation_alone(unsaved, replayed):
    leader = unsaved
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))
    leader._affiliation_ended(organisation_id=COUNCIL, to_on=date(2024, 12, 31), title=None)

    again = replayed(leader)

    assert again.affiliations[0].to_on == date(2024, 12, 31)


def test_the_role_attended_in_is_the_only_one_held_or_the_one_named(leader):
    leader.record_affiliation(COUNCIL, "GP partner", date(2024, 4, 1))
    day = date(2024, 7, 1)
    assert leader.role_on(day).title == "GP partner"
    assert leader.role_on(date(2024, 1, 1)) is None

    leader.record_affiliation(COUNCIL, "Clinical director", date(2024, 6, 1))
    leader.record_affiliation(CHARITY, "Trustee", date(2024, 6, 1))

    assert leader.role_on(day, title="clinical director").title == "Clinical director"
    assert leader.role_on(day, organisation_id=CHARITY).title == "Trustee"
    for named, field in (({}, "title"), ({"organisation_id": COUNCIL}, "title")):
        with pytest.raises(InvalidValue) as refused:
            leader.role_on(day, **named)
        assert refused.value.field == field
    with pytest.raises(InvalidValue) as refused:
        leader.role_on(day, title="Chair")
    assert refused.value.field == "title"
    with pytest.raises(InvalidValue) as refused:
        leader.role_on(day, organisation_id=uuid4())
    assert refused.value.field == "organisation_id"


def test_an_affiliation_ends_on_a_date(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))

    leader.end_affiliation(COUNCIL, date(2025, 1, 31))

    assert isinstance(leader.collect_events()[-1], Leader.AffiliationEnded)
    assert leader.affiliation_on(date(2025, 1, 31)) is not None
    assert leader.affiliation_on(date(2025, 2, 1)) is None


def test_an_affiliation_cannot_end_before_it_began(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))

    with pytest.raises(InvalidValue) as refused:
        leader.end_affiliation(COUNCIL, date(2024, 3, 1))

    assert refused.value.field == "to_on"


def test_only_a_current_affiliation_can_end(leader):
    with pytest.raises(InvalidValue):
        leader.end_affiliation(COUNCIL, date(2025, 1, 31))


def test_a_new_affiliation_can_follow_an_ended_one(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))
    leader.end_affiliation(COUNCIL, date(2024, 12, 31))

    leader.record_affiliation(COUNCIL, "Chief Executive", date(2025, 1, 1))

    assert leader.affiliation_on(date(2025, 6, 1)).title == "Chief Executive"
    assert leader.affiliation_on(date(2024, 6, 1)).title == "Director"


def test_the_most_recently_begun_affiliation_is_the_one_on_a_day(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))
    leader.record_affiliation(CHARITY, "Trustee", date(2024, 9, 1))

    assert leader.affiliation_on(date(2024, 10, 1)).organisation_id == CHARITY


def test_an_affiliation_gives_the_snapshot_other_events_record(leader):
    leader.record_affiliation(COUNCIL, "Director", date(2024, 4, 1))

    snapshot = leader.affiliation_on(date(2024, 5, 1)).snapshot("Northfield Council")

    assert snapshot == AffiliationSnapshot(COUNCIL, "Northfield Council", "Director")


def test_a_leader_details_are_corrected(leader):
    leader.correct_details("Amira Khan-Ali", "amira.ka@example.org")

    [corrected] = leader.collect_events()
    assert isinstance(corrected, Leader.DetailsCorrected)
    assert (leader.name, leader.email) == ("Amira Khan-Ali", "amira.ka@example.org")


def test_a_correction_must_change_something(leader):
    with pytest.raises(InvalidValue):
        leader.correct_details(leader.name, leader.email)


def test_a_leader_is_deactivated(leader):
    leader.deactivate("Left the area")

    [deactivated] = leader.collect_events()
    assert isinstance(deactivated, Leader.Deactivated)
    assert leader.status == "deactivated"


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("record_affiliation", (COUNCIL, "Director", date(2024, 4, 1))),
        ("end_affiliation", (COUNCIL, date(2024, 4, 1))),
        ("correct_details", ("New Name", None)),
        ("deactivate", ()),
    ],
)
def test_a_deactivated_leader_is_not_changed(leader, command, arguments):
    leader.deactivate()

    with pytest.raises(IllegalTransition) as refused:
        getattr(leader, command)(*arguments)

    assert (refused.value.command, refused.value.state) == (command, "deactivated")
