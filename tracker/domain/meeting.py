"""Meeting: a forum's meeting, its attendance, decisions and a versioned record."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import event

from tracker.domain.checks import require_decision, require_one_of, require_state, require_text
from tracker.domain.clock import Aggregate
from tracker.domain.errors import InvalidValue
from tracker.domain.values import AffiliationSnapshot, Decision

SCHEDULED = "scheduled"
OPEN = "open"
FINALISED = "finalised"
CANCELLED = "cancelled"

ATTENDED = "attended"
APOLOGIES = "apologies"
PRESENCES = frozenset({ATTENDED, APOLOGIES})
NAME_THE_RULE = "must name the forum's decision rule in force"


@dataclass(frozen=True)
class Attendance:
    """One leader's presence at a meeting, with their affiliation at the time."""

    leader_id: UUID
    presence: str
    affiliation: AffiliationSnapshot | None = None


class Meeting(Aggregate):
    """A meeting of a forum, from scheduling to its finalised record."""

    class Scheduled(Aggregate.Created):
        """A meeting was scheduled."""

        # v1 events were recorded before meetings had a location.
        class_version = 2

        forum_id: UUID
        title: str
        starts_at: datetime
        location: str = ""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Give a v1 event the location it did not record."""
            state["location"] = ""

    class Invited(Aggregate.Event):
        """Leaders were invited."""

        leader_ids: tuple[UUID, ...]

    class AttendanceRecorded(Aggregate.Event):
        """Who attended and who sent apologies."""

        attendees: tuple[Attendance, ...]

    class Opened(Aggregate.Event):
        """The meeting began."""

    class DecisionRecorded(Aggregate.Event):
        """The meeting made a decision, under a decision rule of the forum in force if it had
        one (or by bootstrap consent, or, in a forum with no rule yet, under none)."""

        # v1 events named no rule.
        class_version = 2

        decision_id: UUID
        text: str
        decision_rule: str | None
        decision_rule_id: UUID | None
        decision_rule_version: int | None
        present: tuple[UUID, ...]
        consented_by: tuple[UUID, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A v1 decision named no rule and recorded no one present."""
            state.update(
                decision_rule=None,
                decision_rule_id=None,
                decision_rule_version=None,
                present=[],
                consented_by=[],
            )

    class RecordFinalised(Aggregate.Event):
        """The record was finalised at a new version."""

        record_version: int

    class Reopened(Aggregate.Event):
        """The finalised record was reopened for correction."""

        reason: str

    class Cancelled(Aggregate.Event):
        """The meeting will not take place."""

        reason: str

    @classmethod
    def schedule(
        cls, id: UUID, forum_id: UUID, title: str, starts_at: datetime, location: str = ""
    ) -> Self:
        """Schedule a meeting of a forum."""
        require_text("title", title)
        if starts_at.tzinfo is None:
            raise InvalidValue("starts_at", "must include a timezone")
        return cls(id, forum_id=forum_id, title=title, starts_at=starts_at, location=location)

    @event(Scheduled)
    def __init__(
        self, id: UUID, forum_id: UUID, title: str, starts_at: datetime, location: str = ""
    ) -> None:
        self.forum_id = forum_id
        self.title = title
        self.starts_at = starts_at
        self.location = location
        self.status = SCHEDULED
        self.invited: set[UUID] = set()
        self.attendance: dict[UUID, Attendance] = {}
        self.decisions: dict[UUID, str] = {}
        self.decided_under: dict[UUID, Decision | None] = {}
        self.record_version = 0

    def invite(self, leader_ids: Sequence[UUID]) -> None:
        """Invite leaders who are not yet invited."""
        require_state("invite", self.status, SCHEDULED, OPEN)
        new = tuple(dict.fromkeys(i for i in leader_ids if i not in self.invited))
        if not new:
            raise InvalidValue("leader_ids", "no one new to invite")
        self._invited(leader_ids=new)

    def record_attendance(self, attendees: Sequence[Attendance]) -> None:
        """Record who attended and who sent apologies."""
        require_state("record_attendance", self.status, OPEN)
        if not attendees:
            raise InvalidValue("attendees", "must not be empty")
        if len({a.leader_id for a in attendees}) != len(attendees):
            raise InvalidValue("attendees", "a leader appears twice")
        for attendance in attendees:
            require_one_of("presence", attendance.presence, PRESENCES)
        self._attendance_recorded(attendees=tuple(attendees))

    def open(self) -> None:
        """Begin the meeting."""
        require_state("open", self.status, SCHEDULED)
        self._opened()

    def record_decision(
        self,
        decision_id: UUID,
        text: str,
        decision: Decision | None = None,
        rule_in_force: bool = False,
    ) -> None:
        """Record a decision made in the meeting: under the forum's rule in force, if it has one
        (the application says whether it does and that the rule named is in force)."""
        require_state("record_decision", self.status, OPEN)
        require_text("text", text)
        if decision_id in self.decisions:
            raise InvalidValue("decision_id", "already recorded")
        if decision is not None:
            require_decision(decision)
        if rule_in_force and (decision is None or decision.rule_id is None):
            raise InvalidValue("decision_rule_id", NAME_THE_RULE)
        d = decision or Decision("")
        self._decision_recorded(
            decision_id=decision_id,
            text=text,
            decision_rule=d.rule or None,
            decision_rule_id=d.rule_id,
            decision_rule_version=d.rule_version,
            present=d.present,
            consented_by=d.consented_by,
        )

    def finalise_record(self) -> None:
        """Finalise the record as its next version."""
        require_state("finalise_record", self.status, OPEN)
        self._record_finalised(record_version=self.record_version + 1)

    def reopen(self, reason: str) -> None:
        """Reopen a finalised record, giving a reason."""
        require_state("reopen", self.status, FINALISED)
        require_text("reason", reason)
        self._reopened(reason=reason)

    def cancel(self, reason: str) -> None:
        """Cancel a meeting that has not begun."""
        require_state("cancel", self.status, SCHEDULED)
        require_text("reason", reason)
        self._cancelled(reason=reason)

    @event(Invited)
    def _invited(self, leader_ids: tuple[UUID, ...]) -> None:
        self.invited.update(leader_ids)

    @event(AttendanceRecorded)
    def _attendance_recorded(self, attendees: tuple[Attendance, ...]) -> None:
        self.attendance.update((a.leader_id, a) for a in attendees)

    @event(Opened)
    def _opened(self) -> None:
        self.status = OPEN

    @event(DecisionRecorded)
    def _decision_recorded(
        self,
        decision_id: UUID,
        text: str,
        decision_rule: str | None,
        decision_rule_id: UUID | None,
        decision_rule_version: int | None,
        present: tuple[UUID, ...],
        consented_by: tuple[UUID, ...],
    ) -> None:
        self.decisions[decision_id] = text
        self.decided_under[decision_id] = (
            None
            if decision_rule is None
            else Decision(
                decision_rule,
                decision_rule_id,
                decision_rule_version,
                tuple(present),
                tuple(consented_by),
            )
        )

    @event(RecordFinalised)
    def _record_finalised(self, record_version: int) -> None:
        self.status = FINALISED
        self.record_version = record_version

    @event(Reopened)
    def _reopened(self, reason: str) -> None:
        self.status = OPEN

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = CANCELLED
