"""A command changes a private copy of a cached aggregate, never the cached one itself."""

from __future__ import annotations

import uuid
from datetime import date

from tracker.domain import Commitment, Forum, Leader
from tracker.eventstore.cache import private_copy


def active_commitment() -> Commitment:
    owner = uuid.uuid4()
    commitment = Commitment.make(
        uuid.uuid4(),
        forum_id=uuid.uuid4(),
        owner_id=owner,
        by=owner,
        description="Open a warm hub",
        purpose_ids=[uuid.uuid4()],
        made_on=date(2026, 11, 26),
    )
    commitment.report_progress(owner, 30)
    commitment.collect_events()
    return commitment


def test_a_commitment_copy_changes_alone() -> None:
    cached = active_commitment()
    before = dict(cached.__dict__)
    copy = private_copy(cached)
    copy.report_progress(copy.owner_id, 60)
    copy.link_purpose(copy.owner_id, uuid.uuid4())

    assert (copy.version, copy.progress, len(copy.purpose_ids)) == (4, 60, 2)
    assert len(copy.collect_events()) == 2
    assert cached.__dict__ == before and cached.collect_events() == []


def test_a_commitment_is_copied_without_pickling_its_unchangeable_values() -> None:
    cached = active_commitment()
    copy = private_copy(cached)
    # Its state is all immutable values, so they are shared; only the containers are new.
    assert copy.__dict__ is not cached.__dict__ and copy.description is cached.description
    assert copy.collect_events() == [] and copy._pending_events is not cached._pending_events


def test_an_aggregate_with_mutable_state_is_copied_deeply() -> None:
    convenor, member = uuid.uuid4(), uuid.uuid4()
    forum = Forum.convene(uuid.uuid4(), "Warm spaces", convenor)
    forum.join(member)
    leader = Leader.register(uuid.uuid4(), "Amina Khan")
    leader.record_affiliation(uuid.uuid4(), "Director", date(2026, 1, 1))
    for cached in (forum, leader):
        cached.collect_events()

    forum_copy, leader_copy = private_copy(forum), private_copy(leader)
    forum_copy.appoint_steward(member, "recorder")
    leader_copy.record_affiliation(uuid.uuid4(), "Trustee", date(2026, 2, 1))

    assert forum_copy.is_steward(member, "recorder") and not forum.is_steward(member, "recorder")
    assert (len(leader_copy.affiliations), len(leader.affiliations)) == (2, 1)
