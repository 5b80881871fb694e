"""The purpose view's roll-ups by leader and by organisation, from (owner, organisation, n)."""

from __future__ import annotations

from uuid import UUID

from projections.queries.purpose_roll_ups import who_contributes


def ids(*numbers: int) -> list[UUID]:
    return [UUID(int=n) for n in numbers]


def test_leaders_and_organisations_are_summed_and_ordered() -> None:
    a, b, c, d = ids(1, 2, 3, 4)
    council, trust = ids(10, 20)
    owners = [b, b, a, c, d]
    organisations = [trust, council, council, None, trust]
    counts = [2, 1, 3, 3, 1]

    contributors, contributing = who_contributes(owners, organisations, counts)

    # Most commitments first; a tie goes by leader id; organisations listed in id order.
    assert [(x.leader_id, x.organisation_ids, x.commitments) for x in contributors] == [
        (a, [council], 3),
        (b, [council, trust], 3),
        (c, [], 3),
        (d, [trust], 1),
    ]
    # Most first; the unaffiliated after any organisation with as many; leaders in id order.
    assert [(x.organisation_id, x.leader_ids, x.commitments) for x in contributing] == [
        (council, [a, b], 4),
        (trust, [b, d], 3),
        (None, [c], 3),
    ]


def test_a_tie_with_the_unaffiliated_puts_them_after_every_organisation() -> None:
    a, b = ids(1, 2)
    (late,) = ids(99)
    _, contributing = who_contributes([a, b], [None, late], [2, 2])
    assert [x.organisation_id for x in contributing] == [late, None]


def test_no_one_has_promised_anything() -> None:
    assert who_contributes([], [], []) == ([], [])
