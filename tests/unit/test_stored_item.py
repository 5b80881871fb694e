"""The stored item of a commitment row: one text however the row holds its timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import msgspec

from projections.commitment_fold import StoredItem, render_item
from projections.pg_time import to_count
from projections.queries.commitment_list import CommitmentItem
from projections.queries.leader_view import LeaderItem
from projections.queries.names import CommitmentNames

MADE = datetime(2026, 11, 3, 9, 30, 15, 123456, tzinfo=UTC)
DONE = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def row(**times: object) -> dict[str, object]:
    return {
        "commitment_id": str(uuid.uuid4()),
        "forum_id": str(uuid.uuid4()),
        "owner_id": str(uuid.uuid4()),
        "requester_id": None,
        "made_by": None,
        "owner_organisation_id": None,
        "description": 'Open the "warm space" on weekday evenings',
        "purpose_ids": [str(uuid.uuid4())],
        "status": "completed",
        "made_on": "2026-11-03",
        "due_on": "2026-12-01",
        "original_due_on": "2026-11-24",
        "asked_for": ["Open the warm space", "2026-11-24"],
        "agreed": ["Open the warm space", "2026-11-24"],
        "renegotiation_count": 1,
        "progress": 80,
        "handover_to": None,
        "offered_terms": None,
        "proposed_terms": ["Open it on Saturdays too", "2026-12-08"],
        "meeting_id": None,
        "version": 7,
        **times,
    }


def test_a_row_renders_the_same_from_datetimes_text_and_microsecond_counts() -> None:
    """The live path holds datetimes (or text, as loaded back); the bulk path holds counts."""
    base = row(created_at=MADE, updated_at=DONE, finished_at=DONE)
    london = timezone(timedelta(hours=1))
    forms = [
        base,
        base | {"created_at": MADE.isoformat(), "finished_at": DONE.astimezone(london).isoformat()},
        base | {"created_at": to_count(MADE), "updated_at": to_count(DONE)},
    ]
    texts = {render_item(form) for form in forms}
    assert len(texts) == 1
    item = msgspec.json.decode(texts.pop())
    assert item["created_at"] == "2026-11-03T09:30:15.123456Z"
    assert item["finished_at"] == "2026-11-20T17:00:00Z"
    assert item["description"] == 'Open the "warm space" on weekday evenings'
    assert item["counter_offer_pending"] is False and item["renegotiation_pending"] is True


def test_an_unfinished_row_has_a_null_finishing_time() -> None:
    item = msgspec.json.decode(render_item(row(created_at=MADE, updated_at=MADE, finished_at=None)))
    assert item["finished_at"] is None


def test_the_stored_item_and_what_reads_add_are_exactly_the_listed_fields() -> None:
    """A field added to the listed item but not stored (or the reverse) fails here."""
    stored = set(StoredItem.__struct_fields__)
    # Names are looked up when read, so a rename never rewrites a stored item.
    names = set(CommitmentNames.__struct_fields__)
    assert stored.isdisjoint(names)
    assert stored | names | {"forum_name", "overdue"} == set(CommitmentItem.__struct_fields__)
    assert set(LeaderItem.__struct_fields__) - set(CommitmentItem.__struct_fields__) == {
        "role",
        "awaiting",
    }


def test_the_stored_item_shows_the_terms_asked_for_and_agreed_apart() -> None:
    asked = ["Open the warm space", "2026-11-24"]
    agreed = ["Open the warm space on weekdays", "2026-12-01"]
    base = row(created_at=MADE, updated_at=MADE, finished_at=None)
    item = msgspec.json.decode(render_item(base | {"asked_for": asked, "agreed": agreed}))
    assert item["asked_for"] == {"description": asked[0], "due_on": asked[1]}
    assert item["agreed"] == {"description": agreed[0], "due_on": agreed[1]}
    proposed = msgspec.json.decode(render_item(base | {"agreed": None}))
    assert proposed["agreed"] is None
