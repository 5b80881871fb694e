"""Organisation: a body leaders are affiliated with; bodies merge, so each may have a successor."""

from typing import Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain.checks import require_one_of, require_state, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import InvalidValue

KINDS = frozenset({"council", "nhs", "police", "housing", "voluntary", "other"})
ACTIVE = "active"
ARCHIVED = "archived"


class Organisation(Aggregate):
    """A council, NHS body, police force, housing provider, voluntary group or other body."""

    class Registered(Aggregate.Created):
        """An organisation was registered."""

        name: str
        kind: str

    class Renamed(Aggregate.Event):
        """The organisation took a new name."""

        name: str

    class SuccessorRecorded(Aggregate.Event):
        """Another organisation took over this one's work."""

        successor_id: UUID

    class Archived(Aggregate.Event):
        """The organisation no longer exists or takes part."""

        reason: str

    @classmethod
    def register(cls, id: UUID, name: str, kind: str) -> Self:
        """Register an organisation."""
        require_text("name", name)
        require_one_of("kind", kind, KINDS)
        return cls(id, name=name, kind=kind)

    @event(Registered)
    def __init__(self, id: UUID, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.status = ACTIVE
        self.successor_id: UUID | None = None

    def rename(self, name: str) -> None:
        """Give the organisation a new name."""
        require_state("rename", self.status, ACTIVE)
        require_text("name", name)
        if name == self.name:
            raise InvalidValue("name", "unchanged")
        self._renamed(name=name)

    def record_successor(self, successor_id: UUID) -> None:
        """Record the organisation that took over; allowed after archiving, as merges lag."""
        if successor_id == self.id:
            raise InvalidValue("successor_id", "cannot succeed itself")
        if self.successor_id is not None:
            raise InvalidValue("successor_id", "already recorded")
        self._successor_recorded(successor_id=successor_id)

    def archive(self, reason: str = "") -> None:
        """Archive the organisation."""
        require_state("archive", self.status, ACTIVE)
        self._archived(reason=reason)

    @event(Renamed)
    def _renamed(self, name: str) -> None:
        self.name = name

    @event(SuccessorRecorded)
    def _successor_recorded(self, successor_id: UUID) -> None:
        self.successor_id = successor_id

    @event(Archived)
    def _archived(self, reason: str) -> None:
        self.status = ARCHIVED
