"""How much of a list that grows without limit a view or a resource lists; the rest is counted.

Each capped list is answered beside its full count, and the whole list lives where the API's
descriptions say: a paged endpoint, a commitment's history, or the resource's own stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

REVISIONS = 20  # a purpose's latest revisions
ENDORSEMENTS = 100  # a purpose's latest endorsements
CONTRIBUTORS = 50  # the most contributing leaders, and organisations, of a purpose
AGREEMENTS_IN_FORCE = 50  # the latest adopted agreements in force for a purpose
CHANGES = 20  # the latest changes of a commitment carried forward to a meeting
ATTENDANCE = 200  # a meeting's attendees, apologies, invitations and attendance
DECISIONS = 200  # the decisions a meeting resource lists
AMENDMENTS = 20  # an agreement's latest amendments in the register
AFFILIATIONS = 50  # a leader's latest affiliations
MEMBERS = 500  # a forum's members, and its stewards
FORUMS = 500  # the forums GET /me lists a leader in


def latest(entries: Sequence[T], bound: int) -> list[T]:
    """The last `bound` entries of a list in time order, still oldest first."""
    return list(entries[max(0, len(entries) - bound) :])
