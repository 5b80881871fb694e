"""The commitment fold counts a commitment under its owner's organisation on the day it was made,
whatever the log says of the owner before or after."""

from __future__ import annotations

import uuid
from typing import Any

from projections.commitment_fold import CommitmentFold
from tests.projections.test_governance_fold import Log

COUNCIL, TRUST = str(uuid.uuid4()), str(uuid.uuid4())


def made(log: Log, owner: uuid.UUID, made_on: str) -> Any:
    return log(
        uuid.uuid4(),
        "commitment.made",
        forum_id=str(uuid.uuid4()),
        owner_id=str(owner),
        made_by=str(owner),
        requester_id=None,
        description="Weekend discharge hub",
        purpose_ids=[str(uuid.uuid4())],
        made_on=made_on,
        due_on=None,
        meeting_id=None,
    )


def folded(*events: Any) -> CommitmentFold:
    fold = CommitmentFold()
    for e in events:
        fold.apply(e)
    return fold


def organisation(fold: CommitmentFold, event: Any) -> str | None:
    organisation_id: str | None = fold.commitments[str(event.stream_id)]["owner_organisation_id"]
    return organisation_id


def test_a_commitment_minuted_late_counts_under_the_organisation_of_its_day() -> None:
    log, helen = Log(), uuid.uuid4()
    moved = [
        log(helen, "leader.registered", name="Helen", email=None),
        log(helen, "leader.affiliation_recorded", organisation_id=COUNCIL, title="Director",
            from_on="2025-01-01"),
        log(helen, "leader.affiliation_ended", organisation_id=COUNCIL, to_on="2026-09-30"),
        log(helen, "leader.affiliation_recorded", organisation_id=TRUST, title="Director",
            from_on="2026-10-01"),
    ]  # fmt: skip
    before, after = made(log, helen, "2026-09-15"), made(log, helen, "2026-10-02")

    fold = folded(*moved, before, after)

    assert organisation(fold, before) == COUNCIL
    assert organisation(fold, after) == TRUST


def test_an_affiliation_that_has_not_begun_or_has_ended_does_not_count() -> None:
    log, helen = Log(), uuid.uuid4()
    history = [
        log(helen, "leader.registered", name="Helen", email=None),
        log(helen, "leader.affiliation_recorded", organisation_id=TRUST, title="Lead",
            from_on="2026-12-01"),
    ]  # fmt: skip
    early = made(log, helen, "2026-11-20")

    fold = folded(*history, early)

    assert organisation(fold, early) is None


def test_of_two_roles_held_that_day_the_latest_begun_counts() -> None:
    log, helen = Log(), uuid.uuid4()
    history = [
        log(helen, "leader.registered", name="Helen", email=None),
        log(helen, "leader.affiliation_recorded", organisation_id=TRUST, title="Partner",
            from_on="2026-06-01"),
        log(helen, "leader.affiliation_recorded", organisation_id=COUNCIL, title="Clinical lead",
            from_on="2024-01-01"),
    ]  # fmt: skip
    commitment = made(log, helen, "2026-11-20")

    fold = folded(*history, commitment)

    assert organisation(fold, commitment) == TRUST


def test_a_handover_counts_under_the_new_owners_organisation_on_the_day_they_took_it() -> None:
    log, helen, sam = Log(), uuid.uuid4(), uuid.uuid4()
    people = [
        log(helen, "leader.registered", name="Helen", email=None),
        log(helen, "leader.affiliation_recorded", organisation_id=COUNCIL, title="Director",
            from_on="2020-01-01"),
        log(sam, "leader.registered", name="Sam", email=None),
        log(sam, "leader.affiliation_recorded", organisation_id=TRUST, title="Manager",
            from_on="2020-01-01"),
    ]  # fmt: skip
    commitment = made(log, helen, "2026-11-20")
    offered = log(
        commitment.stream_id, "commitment.handover_offered", by=str(helen), to_id=str(sam)
    )
    taken = log(commitment.stream_id, "commitment.handover_accepted", by=str(sam))

    fold = folded(*people, commitment, offered, taken)

    assert organisation(fold, commitment) == TRUST
