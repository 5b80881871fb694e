"""Making a commitment: only the owner can promise (rule 1); due dates (rule 7); purposes."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from tracker.domain import Commitment, InvalidValue, NotAllowed

MADE_ON = date(2025, 3, 3)
DUE_ON = date(2025, 4, 30)


def make(people, **overrides):
    fields = {
        "forum_id": uuid4(),
        "owner_id": people.owner,
        "by": people.owner,
        "description": "Run the winter pressures workshop",
        "purpose_ids": [uuid4()],
        "made_on": MADE_ON,
        "due_on": DUE_ON,
    }
    return Commitment.make(uuid4(), **(fields | overrides))


def test_a_commitment_made_by_its_owner_is_active_at_once(people):
    commitment = make(people)

    [made] = commitment.collect_events()
    assert isinstance(made, Commitment.Made)
    assert made.owner_id == made.made_by == people.owner
    assert commitment.status == "active"


def test_a_commitment_recorded_by_someone_else_starts_proposed(people):
    commitment = make(people, by=people.requester, requester_id=people.requester)

    assert commitment.status == "proposed"
    assert commitment.requester_id == people.requester


def test_a_commitment_recorded_by_a_system_starts_proposed(people):
    assert make(people, by=None).status == "proposed"


def test_an_owner_may_commit_directly_in_answer_to_a_request(people):
    commitment = make(people, requester_id=people.requester)

    assert commitment.status == "active"


def test_the_owner_cannot_be_their_own_requester(people):
    with pytest.raises(InvalidValue) as refused:
        make(people, requester_id=people.owner)
    assert refused.value.field == "requester_id"


def test_a_commitment_cites_at_least_one_purpose(people):
    with pytest.raises(InvalidValue) as refused:
        make(people, purpose_ids=[])
    assert refused.value.field == "purpose_ids"


def test_a_purpose_is_cited_only_once(people):
    purpose = uuid4()
    with pytest.raises(InvalidValue):
        make(people, purpose_ids=[purpose, purpose])


def test_a_commitment_cannot_cite_a_retired_purpose(people):
    retired = uuid4()
    with pytest.raises(NotAllowed) as refused:
        make(people, purpose_ids=[retired], retired_purpose_ids={retired})
    assert refused.value.rule == "purpose-is-retired"


def test_the_due_date_is_optional(people):
    commitment = make(people, due_on=None)

    assert commitment.due_on is None
    assert commitment.original_due_on is None


def test_the_due_date_may_be_the_day_the_commitment_was_made(people):
    assert make(people, due_on=MADE_ON).due_on == MADE_ON


def test_the_due_date_cannot_be_before_the_day_the_commitment_was_made(people):
    with pytest.raises(InvalidValue) as refused:
        make(people, due_on=MADE_ON - timedelta(days=1))
    assert refused.value.field == "due_on"


def test_a_commitment_needs_a_description(people):
    with pytest.raises(InvalidValue) as refused:
        make(people, description="  ")
    assert refused.value.field == "description"


def test_a_new_commitment_remembers_its_original_due_date_and_no_renegotiations(people):
    commitment = make(people)

    assert commitment.original_due_on == DUE_ON
    assert commitment.renegotiation_count == 0
    assert not commitment.handover_pending
    assert not commitment.renegotiation_pending


def test_a_commitment_is_created_with_the_id_the_caller_gives(people):
    given_id = uuid4()
    commitment = Commitment.make(
        given_id,
        forum_id=uuid4(),
        owner_id=people.owner,
        by=people.owner,
        description="Chair the steering group",
        purpose_ids=[uuid4()],
        made_on=MADE_ON,
    )

    assert commitment.id == given_id
    [made] = commitment.collect_events()
    assert made.originator_id == given_id


def minute(people, attended, **overrides):
    fields = {
        "forum_id": uuid4(),
        "owner_id": people.owner,
        "meeting_id": uuid4(),
        "attended": attended,
        "recorded_by": f"leader:{people.steward}",
        "description": "Run the winter pressures workshop",
        "purpose_ids": [uuid4()],
        "made_on": MADE_ON,
    }
    return Commitment.minute(uuid4(), **(fields | overrides))


def test_a_commitment_minuted_for_an_attending_owner_is_theirs_and_active_at_once(people, replayed):
    commitment = replayed(minute(people, {people.owner, people.steward}))

    assert (commitment.status, commitment.made_by) == ("active", people.owner)
    assert (commitment.requester_id, commitment.minuted_as) == (None, "made_in_room")
    assert commitment.recorded_by == f"leader:{people.steward}"


def test_a_commitment_minuted_for_an_absent_owner_is_proposed_to_them(people, replayed):
    commitment = replayed(minute(people, {people.steward}))

    assert (commitment.status, commitment.made_by) == ("proposed", None)
    assert commitment.minuted_as == "proposed_to_absent"
    commitment.accept(by=people.owner)
    assert commitment.status == "active"


def test_the_recorder_is_never_the_requester_of_a_minuted_commitment(people):
    commitment = minute(people, {people.owner, people.steward})

    assert not commitment.is_party(people.steward)


def test_whoever_asked_in_the_meeting_is_the_requester(people):
    attended = {people.owner, people.requester}
    commitment = minute(people, attended, requester_id=people.requester)

    assert (commitment.status, commitment.requester_id) == ("active", people.requester)


def test_a_requester_who_did_not_attend_is_refused(people):
    with pytest.raises(InvalidValue) as refused:
        minute(people, {people.owner}, requester_id=people.requester)
    assert refused.value.field == "requester_id"


def test_a_made_event_from_before_minutes_named_recorders_is_upcast_with_none():
    state = {"owner_id": uuid4(), "made_by": None, "meeting_id": uuid4()}

    Commitment.Made.upcast_v1_v2(state)

    assert state["recorded_by"] is None
    assert Commitment.Made.class_version == 2


def test_a_commitment_made_outside_minutes_names_no_recorder(people):
    commitment = make(people)

    assert (commitment.recorded_by, commitment.minuted_as) == (None, None)
