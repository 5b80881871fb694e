"""The directory fold on its own: organisations, leaders, forums and memberships as rows."""

from __future__ import annotations

import uuid

from projections.directory_fold import DirectoryFold
from tests.projections.test_governance_fold import Log
from tracker.eventstore import RecordedEvent


def fold(*events: RecordedEvent) -> DirectoryFold:
    f = DirectoryFold()
    for e in events:
        f.apply(e)
    return f


def test_an_organisation_is_renamed_succeeded_and_archived() -> None:
    log, org, successor = Log(), uuid.uuid4(), uuid.uuid4()
    f = fold(
        log(org, "organisation.registered", name="Old Trust", kind="nhs"),
        log(org, "organisation.renamed", name="Older Trust"),
        log(org, "organisation.successor_recorded", successor_id=str(successor)),
        log(org, "organisation.archived", reason="merged"),
    )
    row = f.organisations[str(org)]
    assert row["name"] == "Older Trust" and row["kind"] == "nhs"
    assert row["status"] == "archived" and row["successor_id"] == str(successor)
    assert row["registered_at"].startswith("2026-11-26T10:01")


def test_a_leader_keeps_only_the_affiliations_not_yet_ended() -> None:
    log, leader, org, other = Log(), uuid.uuid4(), str(uuid.uuid4()), str(uuid.uuid4())
    recorded, ended = "leader.affiliation_recorded", "leader.affiliation_ended"
    f = fold(
        log(leader, "leader.registered", name="Amina", email="a@example.org"),
        log(leader, recorded, organisation_id=org, title="GP Partner", from_on="2020-01-01"),
        log(leader, recorded, organisation_id=org, title="Clinical Director", from_on="2021-01-01"),
        log(leader, recorded, organisation_id=other, title="Trustee", from_on="2022-01-01"),
        # Titles match whatever their case and spaces; a v1 ending names no title.
        log(leader, ended, organisation_id=org, title=" gp partner ", to_on="2023-01-01"),
        log(leader, ended, organisation_id=other, to_on="2023-02-01"),
        log(leader, "leader.details_corrected", name="Amina Okafor", email=None),
    )  # fmt: skip
    row = f.leaders[str(leader)]
    assert row["affiliations"] == [
        {"organisation_id": org, "title": "Clinical Director", "from_on": "2021-01-01"}
    ]
    assert (row["name"], row["email"], row["status"]) == ("Amina Okafor", None, "active")
    f.apply(log(leader, "leader.deactivated", reason="Retired"))
    assert f.leaders[str(leader)]["status"] == "deactivated"


def test_members_carry_their_roles_and_leaving_removes_the_membership() -> None:
    log, forum = Log(), uuid.uuid4()
    amina, ben = str(uuid.uuid4()), str(uuid.uuid4())
    f = fold(
        log(forum, "forum.convened", name="Warm", timezone="Europe/London", convenor_id=amina),
        log(forum, "forum.member_joined", leader_id=ben),
        log(forum, "forum.steward_appointed", leader_id=ben, role="recorder"),
        log(forum, "forum.steward_appointed", leader_id=ben, role="convenor"),
        log(forum, "forum.renamed", name="Warm homes"),
    )  # fmt: skip
    key = str(forum)
    assert f.forums[key]["name"] == "Warm homes"
    assert f.members[(key, amina)]["roles"] == ["member", "steward", "convenor"]
    assert f.members[(key, ben)]["roles"] == ["member", "steward", "convenor", "recorder"]
    for role in ("recorder", "convenor"):
        f.apply(log(forum, "forum.steward_stood_down", leader_id=ben, role=role))
    assert f.members[(key, ben)]["roles"] == ["member"]
    f.apply(log(forum, "forum.member_left", leader_id=ben))
    assert (key, ben) not in f.members and (key, ben) in f.left
    assert f.touched("member") == [f.members[(key, amina)]]
    # Joining again is a new membership, no longer a departure to delete.
    f.apply(log(forum, "forum.member_joined", leader_id=ben))
    assert f.members[(key, ben)]["roles"] == ["member"] and not f.left


def test_events_of_other_streams_change_nothing() -> None:
    log = Log()
    f = fold(log(uuid.uuid4(), "purpose.proposed", forum_id=str(uuid.uuid4())))
    assert f == DirectoryFold()
