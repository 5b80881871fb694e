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
        log(leader, "leader.affiliation_recorded", organisation_id=practice, title="GP partner"),
        log(
            leader,
            "leader.affiliation_recorded",
            organisation_id=practice,
            title="Clinical director",
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
    assert fold.organisation_of(str(leader)) == practice
    fold.apply(
        log(leader, "leader.affiliation_recorded", organisation_id=federation, title="Chair")
    )
    assert fold.organisation_of(str(leader)) == federation
    # An ending stored before several roles were possible names no title: the one role ends.
    fold.apply(
        log(leader, "leader.affiliation_ended", organisation_id=federation, to_on="2026-06-30")
    )
    assert fold.organisation_of(str(leader)) == practice
    assert fold.leaders[str(leader)]["roles"] == [[practice, "GP partner"]]
