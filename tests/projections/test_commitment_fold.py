"""The commitment fold on its own: a leader's roles, and the terms asked for and agreed."""

from __future__ import annotations

import uuid

from projections.commitment_fold import CommitmentFold
from tests.projections.test_governance_fold import Log, ids


def test_an_owner_keeps_their_organisation_while_any_role_there_holds() -> None:
    log, fold = Log(), CommitmentFold()
    leader = uuid.uuid4()
    practice, federation = ids(2)
    for event in (
        log(leader, "leader.registered", name="Helen", email=None),
        log(
            leader,
            "leader.affiliation_recorded",
            organisation_id=practice,
            title="GP partner",
            from_on="2026-01-01",
        ),
        log(
            leader,
            "leader.affiliation_recorded",
            organisation_id=practice,
            title="Clinical director",
            from_on="2026-02-01",
        ),
        log(
            leader,
            "leader.affiliation_ended",
            organisation_id=practice,
            title="clinical director",
            to_on="2026-03-31",
        ),
    ):
        fold.apply(event)
    shown = fold.leaders[str(leader)]
    assert shown["organisation_id"] == practice
    assert fold.organisation_of(str(leader), "2026-04-01") == practice
    fold.apply(
        log(
            leader,
            "leader.affiliation_recorded",
            organisation_id=federation,
            title="Chair",
            from_on="2026-05-01",
        )
    )
    assert shown["organisation_id"] == federation
    assert fold.organisation_of(str(leader), "2026-05-02") == federation
    # An ending stored before several roles were possible names no title: the one role ends.
    fold.apply(
        log(leader, "leader.affiliation_ended", organisation_id=federation, to_on="2026-06-30")
    )
    assert shown["organisation_id"] == practice
    assert fold.organisation_of(str(leader), "2026-07-01") == practice
    assert shown["affiliations"] == [
        [practice, "GP partner", "2026-01-01", None],
        [practice, "Clinical director", "2026-02-01", "2026-03-31"],
        [federation, "Chair", "2026-05-01", "2026-06-30"],
    ]


def test_the_view_keeps_the_terms_asked_for_and_agreed_as_the_aggregate_does() -> None:
    log, fold = Log(), CommitmentFold()
    cid, owner, requester = uuid.uuid4(), *ids(2)
    made = log(
        cid,
        "commitment.made",
        forum_id=ids(1)[0],
        owner_id=owner,
        made_by=requester,
        requester_id=requester,
        description="Share the discharge list daily",
        purpose_ids=ids(1),
        made_on="2026-11-26",
        due_on="2026-12-01",
        meeting_id=None,
    )
    fold.apply(made)
    row = fold.commitments[str(cid)]
    asked = ["Share the discharge list daily", "2026-12-01"]
    assert (row["asked_for"], row["agreed"]) == (asked, None)
    offered = ["Share it weekly", "2027-01-15"]
    fold.apply(
        log(
            cid,
            "commitment.counter_offered",
            by=owner,
            description=offered[0],
            due_on=offered[1],
            note="",
        )
    )
    fold.apply(log(cid, "commitment.counter_offer_accepted", by=requester))
    assert (row["asked_for"], row["agreed"], row["original_due_on"]) == (asked, offered, asked[1])
    fixed = ["Share it weekly", "2027-01-16"]
    fold.apply(
        log(
            cid,
            "commitment.record_corrected",
            by=owner,
            reason="typo",
            description=fixed[0],
            due_on=fixed[1],
        )
    )
    assert (row["asked_for"], row["agreed"], row["due_on"]) == (asked, fixed, fixed[1])
