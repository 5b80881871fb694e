"""The shapes of meetings in the API: request bodies, the meeting's state, and minutes' result."""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tracker.api.schemas import (
    AffiliationView,
    Command,
    Creation,
    Day,
    DecisionView,
    ExternalId,
    Ids,
    Moment,
    Name,
    Recorded,
    Text,
)
from tracker.application import bounds
from tracker.application.decisions import DecisionBasis
from tracker.application.ports import Saved
from tracker.domain import Attendance, Meeting

MAX_ITEMS = 200

Bounded = msgspec.Meta(max_length=MAX_ITEMS)


class ScheduleMeeting(Creation, frozen=True, kw_only=True):
    """Schedule a meeting of a forum; starts_at must carry its UTC offset."""

    forum_id: UUID
    title: Name
    starts_at: Moment
    location: Name | None = None


class Invitation(Command, frozen=True, kw_only=True):
    """Members of the meeting's forum to invite; those already invited are skipped."""

    leader_ids: Ids


class Attendee(Command, frozen=True, kw_only=True):
    """One leader who attended, or sent apologies, and the role they came in.

    The server keeps the affiliation the leader held on the meeting's day. A leader who held
    only one needs nothing more. One who held several (two roles in one organisation, or
    roles in two) names the one they came in, by `title`, `organisation_id` or both; leaving
    it out is a 422 naming `title`, as is naming a role they did not hold that day.
    """

    leader_id: UUID
    status: Literal["attended", "apologies"]
    organisation_id: UUID | None = None
    title: Name | None = None


class AttendanceBody(Command, frozen=True, kw_only=True):
    """Who attended and who sent apologies; the server snapshots each one's affiliation."""

    attendees: Annotated[list[Attendee], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]


class Decision(Command, frozen=True, kw_only=True):
    """A decision; give decision_id to name it yourself, or the server assigns one.

    A forum with a decision rule in force names it by `decision_rule_id` (checked as an
    adoption's is); without one, a 422 naming `decision_rule_id`. A forum with no rule in force
    records the decision under none, or by `bootstrap: "consent"` with `consented_by` naming
    every member the meeting records as present. Whoever the meeting records as attending is
    kept with the decision as `present`."""

    decision_id: UUID | None = None
    text: Text
    decision_rule_id: UUID | None = None
    bootstrap: Literal["consent"] | None = None
    consented_by: Ids | None = None

    def basis(self) -> DecisionBasis:
        """The decision's basis, as the use cases take it."""
        return DecisionBasis(
            decision_rule_id=self.decision_rule_id,
            bootstrap=self.bootstrap,
            consented_by=tuple(self.consented_by or ()),
        )


class MinutesCommitment(Command, frozen=True, kw_only=True):
    """A commitment made at the meeting, checked as POST /commitments checks one.

    An owner the record shows as attending made it in the room: it is active at once, made by
    them. An owner who was absent or sent apologies has it proposed to them, to accept or not.
    `requester_id` names the attendee who asked for it, if anyone did; the recorder is never a
    party.
    """

    owner_id: UUID
    description: Text
    purpose_ids: Ids
    due_on: Day | None = None
    external_id: ExternalId | None = None
    requester_id: Annotated[
        UUID | None,
        msgspec.Meta(description="The attendee who asked for it; null: nobody asked"),
    ] = None


class Minutes(Command, frozen=True, kw_only=True):
    """Everything a meeting recorded; all of it is written, or none of it."""

    attendance: Annotated[list[Attendee], Bounded] = msgspec.field(default_factory=list)
    decisions: Annotated[list[Decision], Bounded] = msgspec.field(default_factory=list)
    commitments: Annotated[list[MinutesCommitment], Bounded] = msgspec.field(default_factory=list)
    source_system: ExternalId | None = None


class MinutedCommitment(Recorded, frozen=True, kw_only=True):
    """Where one commitment of the minutes landed, and which rule made it."""

    case: Annotated[
        Literal["made_in_room", "proposed_to_absent"],
        msgspec.Meta(
            description="made_in_room: its owner attended, so it is active, made by them;"
            " proposed_to_absent: its owner was absent or sent apologies, so it awaits their"
            " acceptance"
        ),
    ]


class MinutesRecorded(msgspec.Struct, frozen=True, kw_only=True):
    """Where minutes landed: the meeting (null if only commitments were made) and each commitment.

    `commitments` and `decision_ids` follow the request's order; a commitment's `stream_id` is
    its new id, and its `case` says whether it was made in the room or proposed to the absent.
    """

    meeting: Recorded | None
    commitments: list[MinutedCommitment]
    decision_ids: list[UUID]
    replayed: bool = False

    @classmethod
    def of(
        cls,
        saved: Saved,
        meeting_id: UUID,
        commitments: list[tuple[UUID, str]],
        decision_ids: list[UUID],
    ) -> MinutesRecorded:
        """The result of one save of minutes, or of its replay."""
        touched = any(e.stream_id == meeting_id for e in saved.events)
        return cls(
            meeting=Recorded.of(saved, meeting_id) if touched else None,
            commitments=[_minuted(saved, c, case) for c, case in commitments],
            decision_ids=decision_ids,
            replayed=saved.replayed,
        )


def _minuted(saved: Saved, commitment_id: UUID, case: str) -> MinutedCommitment:
    """One commitment's place in a save of minutes, with its case."""
    landed = Recorded.of(saved, commitment_id)
    return msgspec.convert({**msgspec.to_builtins(landed), "case": case}, MinutedCommitment)


class AttendeeState(msgspec.Struct, frozen=True, kw_only=True):
    """One attendee as recorded."""

    leader_id: UUID
    status: str
    affiliation: AffiliationView | None

    @classmethod
    def of(cls, a: Attendance) -> AttendeeState:
        """The public view of one attendance."""
        affiliation = AffiliationView.of(a.affiliation)
        return cls(leader_id=a.leader_id, status=a.presence, affiliation=affiliation)


class DecisionState(msgspec.Struct, frozen=True, kw_only=True):
    """A decision as recorded, and the rule it was made under (null: none named, in a forum
    with no decision rule in force then, or recorded before decisions named their rule)."""

    decision_id: UUID
    text: str
    decision: DecisionView | None = None


class MeetingState(msgspec.Struct, frozen=True, kw_only=True):
    """A meeting as it stands now, loaded from its own stream; its lists are bounded, each
    beside its full count."""

    id: UUID
    version: int
    forum_id: UUID
    title: str
    starts_at: datetime
    location: str
    status: str
    record_version: int
    invited: list[UUID]
    invited_total: int
    attendance: list[AttendeeState]
    attendance_total: int
    decisions: list[DecisionState]
    decisions_total: int
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, m: Meeting) -> MeetingState:
        """The public view of the aggregate."""
        return cls(
            id=m.id,
            version=m.version,
            forum_id=m.forum_id,
            title=m.title,
            starts_at=m.starts_at,
            location=m.location,
            status=m.status,
            record_version=m.record_version,
            invited=sorted(m.invited)[: bounds.ATTENDANCE],
            invited_total=len(m.invited),
            attendance=[
                AttendeeState.of(a) for a in islice(m.attendance.values(), bounds.ATTENDANCE)
            ],
            attendance_total=len(m.attendance),
            decisions=[
                DecisionState(decision_id=d, text=t, decision=DecisionView.of(m.decided_under[d]))
                for d, t in islice(m.decisions.items(), bounds.DECISIONS)
            ],
            decisions_total=len(m.decisions),
            created_on=m.created_on,
            modified_on=m.modified_on,
        )
