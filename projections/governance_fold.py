"""The governance views as pure data: purposes, agreements and meetings folded into rows.

As with the commitment fold, the projection loads the rows a batch touches, folds the batch
here and writes back what changed; nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.eventstore import RecordedEvent

Row = dict[str, Any]
Key = tuple[str, str]


def _at(event: RecordedEvent) -> str:
    return event.occurred_at.isoformat()


def new_purpose(event: RecordedEvent) -> Row:
    """The row a purpose.proposed event creates."""
    p = event.payload
    return {
        "purpose_id": str(event.stream_id),
        "forum_id": p["forum_id"],
        "statement": p["statement"],
        "original_statement": p["statement"],
        "status": "proposed",
        "decision_rule": None,
        "adopted_meeting_id": None,
        "proposed_by": p["proposed_by"],
        "proposed_at": _at(event),
        "revisions": [],
        "last_activity": _at(event),
        "version": event.version,
    }


def new_agreement(event: RecordedEvent, forum_id: str | None) -> Row:
    """The row an agreement.proposed event creates, in the forum it belongs to."""
    p = event.payload
    return {
        "agreement_id": str(event.stream_id),
        "forum_id": forum_id,
        "scope": p["scope"],
        "scope_id": p["scope_id"],
        "kind": p["kind"],
        "title": p["title"],
        "text": p["text"],
        "status": "proposed",
        "decision_rule": None,
        "adopted_meeting_id": None,
        "adopted_at": None,
        "amendments": [],
        "proposed_by": p["proposed_by"],
        "proposed_at": _at(event),
        "rescinded_at": None,
        "rescinded_reason": None,
    }


def new_meeting(event: RecordedEvent) -> Row:
    """The row a meeting.scheduled event creates."""
    p = event.payload
    return {
        "meeting_id": str(event.stream_id),
        "forum_id": p["forum_id"],
        "title": p["title"],
        "starts_at": p["starts_at"],
        # v1 events have no location; the mapper's upcaster is not run on raw payloads.
        "location": p.get("location", ""),
        "status": "scheduled",
        "record_version": 0,
    }


@dataclass
class GovernanceFold:
    """Rows of the governance views, changed event by event."""

    purposes: dict[str, Row] = field(default_factory=dict)
    agreements: dict[str, Row] = field(default_factory=dict)
    meetings: dict[str, Row] = field(default_factory=dict)
    endorsements: dict[Key, Row] = field(default_factory=dict)
    withdrawn: set[Key] = field(default_factory=set)
    attendance: dict[Key, Row] = field(default_factory=dict)
    decisions: list[Row] = field(default_factory=list)
    dirty: set[tuple[str, str]] = field(default_factory=set)

    def apply(self, event: RecordedEvent) -> None:
        """Fold one event into the rows it touches."""
        if event.stream_type == "purpose":
            self._purpose(event)
        elif event.stream_type == "agreement":
            self._agreement(event)
        elif event.stream_type == "meeting":
            self._meeting(event)

    def _purpose(self, event: RecordedEvent) -> None:
        key, p, kind = str(event.stream_id), event.payload, event.type.removeprefix("purpose.")
        if kind == "proposed":
            self.purposes[key] = new_purpose(event)
        else:
            row = self.purposes[key]
            if kind == "revised":
                revision = {
                    "statement": p["statement"],
                    "reason": p["reason"],
                    "by": p["by"],
                    "at": _at(event),
                }
                row.update(statement=p["statement"], revisions=[*row["revisions"], revision])
            elif kind == "endorsed":
                self._endorse(key, event)
            elif kind == "endorsement_withdrawn":
                self.endorsements.pop((key, p["by"]), None)
                self.withdrawn.add((key, p["by"]))
            elif kind == "adopted":
                row.update(
                    status="adopted",
                    decision_rule=p["decision_rule"],
                    adopted_meeting_id=p["meeting_id"],
                )
            elif kind == "retired":
                row["status"] = "retired"
            row.update(last_activity=_at(event), version=event.version)
        self.dirty.add(("purpose", key))

    def _endorse(self, key: str, event: RecordedEvent) -> None:
        by = event.payload["by"]
        self.withdrawn.discard((key, by))
        self.endorsements[(key, by)] = {
            "purpose_id": key,
            "leader_id": by,
            "affiliation": event.payload["affiliation"],
            "endorsed_at": _at(event),
        }

    def forum_of_purpose(self, purpose_id: str) -> str | None:
        """The forum a purpose belongs to, as far as this view knows."""
        purpose = self.purposes.get(purpose_id)
        return None if purpose is None else purpose["forum_id"]

    def _agreement(self, event: RecordedEvent) -> None:
        key, p, kind = str(event.stream_id), event.payload, event.type.removeprefix("agreement.")
        if kind == "proposed":
            scope_id = p["scope_id"]
            forum = scope_id if p["scope"] == "forum" else self.forum_of_purpose(scope_id)
            self.agreements[key] = new_agreement(event, forum)
        else:
            row = self.agreements[key]
            if kind == "adopted":
                row.update(
                    status="adopted",
                    decision_rule=p["decision_rule"],
                    adopted_meeting_id=p["meeting_id"],
                    adopted_at=_at(event),
                )
            elif kind == "amended":
                amendment = {"text": p["text"], "reason": p["reason"], "at": _at(event)}
                row.update(text=p["text"], amendments=[*row["amendments"], amendment])
            elif kind == "rescinded":
                row.update(
                    status="rescinded", rescinded_at=_at(event), rescinded_reason=p["reason"]
                )
        self.dirty.add(("agreement", key))

    def _meeting(self, event: RecordedEvent) -> None:
        key, p, kind = str(event.stream_id), event.payload, event.type.removeprefix("meeting.")
        if kind == "scheduled":
            self.meetings[key] = new_meeting(event)
        elif kind == "attendance_recorded":
            for a in p["attendees"]:
                self.attendance[(key, a["leader_id"])] = {
                    "meeting_id": key,
                    "leader_id": a["leader_id"],
                    "presence": a["presence"],
                    "affiliation": a["affiliation"],
                }
            return
        elif kind == "decision_recorded":
            self.decisions.append(
                {
                    "meeting_id": key,
                    "decision_id": p["decision_id"],
                    "text": p["text"],
                    "recorded_at": _at(event),
                    "position": event.position,
                    "opened_tx": event.transaction_id,
                    "opened_pos": event.position,
                    # Decisions recorded before they named a rule carry neither.
                    "decision_rule": p.get("decision_rule"),
                    "decision_rule_id": p.get("decision_rule_id"),
                }
            )
            return
        elif kind in ("opened", "reopened"):
            self.meetings[key]["status"] = "open"
        elif kind == "record_finalised":
            self.meetings[key].update(status="finalised", record_version=p["record_version"])
        elif kind == "cancelled":
            self.meetings[key]["status"] = "cancelled"
        else:
            return  # invitations are not part of these views
        self.dirty.add(("meeting", key))

    def table(self, kind: str) -> dict[str, Row]:
        """The rows of one kind."""
        return {"purpose": self.purposes, "agreement": self.agreements, "meeting": self.meetings}[
            kind
        ]

    def touched(self, kind: str) -> list[Row]:
        """The rows of one kind that events changed."""
        table = self.table(kind)
        return [table[key] for k, key in self.dirty if k == kind]
