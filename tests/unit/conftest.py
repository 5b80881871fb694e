"""Givens for the pure domain tests: aggregates rebuilt from the events that led to a state."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from tests.clock import START
from tracker.domain import Commitment

A = TypeVar("A", bound=Aggregate)

MADE_ON = START.date()
DUE_ON = MADE_ON + timedelta(days=58)


@dataclass(frozen=True)
class People:
    """The leaders a commitment test talks about, by their relationship to it."""

    owner: UUID
    requester: UUID
    steward: UUID
    stranger: UUID
    successor: UUID


def replay(events: Sequence[Any]) -> Any:
    """Rebuild an aggregate from its events, as loading it from the store would."""
    aggregate = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def rebuilt(aggregate: A) -> A:
    """The aggregate rebuilt from its pending events, with nothing left pending."""
    result: A = replay(aggregate.collect_events())
    return result


# Each path of commands from a fresh commitment (owner-made or requested) to a state.
PATHS: dict[str, list[tuple[str, str]]] = {
    "proposed": [],
    "active": [("accept", "owner")],
    "completed": [("accept", "owner"), ("complete", "owner")],
    "acknowledged": [("accept", "owner"), ("complete", "owner"), ("acknowledge", "requester")],
    "released": [("accept", "owner"), ("release", "owner")],
    "cancelled": [("accept", "owner"), ("cancel", "requester")],
    "declined": [("decline", "owner")],
    "withdrawn": [("withdraw", "requester")],
}
REASONED = {"release", "cancel", "decline"}


@pytest.fixture
def replayed() -> Callable[[A], A]:
    """Rebuilds an aggregate from its pending events: the given of given/when/then."""
    return rebuilt


@pytest.fixture
def people() -> People:
    return People(uuid4(), uuid4(), uuid4(), uuid4(), uuid4())


@pytest.fixture
def given(people: People) -> Callable[..., Commitment]:
    """A commitment in the named state, requested by `people.requester` unless told not.

    Without a requester, a steward recorded it and acts where a requester would.
    """

    def build(state: str, *, requester: bool = True, **make: Any) -> Commitment:
        fields: dict[str, Any] = {
            "forum_id": uuid4(),
            "owner_id": people.owner,
            "by": people.requester if requester else people.steward,
            "requester_id": people.requester if requester else None,
            "description": "Share the discharge data with the housing team",
            "purpose_ids": [uuid4()],
            "made_on": MADE_ON,
            "due_on": DUE_ON,
        }
        fields |= make
        commitment = Commitment.make(uuid4(), **fields)
        steps = PATHS[state]
        if fields["by"] == people.owner:
            steps = [step for step in steps if step[0] != "accept"]
        for command, role in steps:
            by = getattr(people, role) if requester or role == "owner" else people.steward
            extra: dict[str, Any] = {"reason": "because"} if command in REASONED else {}
            if role == "requester" and not requester:
                extra["by_steward"] = True
            getattr(commitment, command)(by=by, **extra)
        assert commitment.status == state
        return rebuilt(commitment)

    return build
