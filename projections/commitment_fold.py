"""The commitment views as pure data: fold events into rows, with no database in sight.

The projection loads the rows a batch touches, folds the batch here, and writes the rows back;
the same fold runs in memory wherever a view must be computed from events alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from projections.pg_time import from_count
from tracker.eventstore import RecordedEvent

Row = dict[str, Any]

OPEN = ("proposed", "active")
FINISHED = ("completed", "acknowledged", "released", "cancelled", "declined", "withdrawn")
LEADER_EVENTS = (
    "leader.registered",
    "leader.details_corrected",
    "leader.affiliation_recorded",
    "leader.affiliation_ended",
)
ORGANISATION_EVENTS = ("organisation.registered", "organisation.renamed")
# The columns of a commitment_changes row, in the order both writers send them.
CHANGE_COLUMNS = (
    "commitment_id",
    "version",
    "position",
    "type",
    "actor",
    "occurred_at",
    "status",
    "due_on",
    "progress",
    "opened_tx",
    "opened_pos",
)


class StoredTerms(msgspec.Struct, kw_only=True):
    """A description and due date, as asked for or as agreed."""

    description: str
    due_on: str | None


def _stored_terms(terms: list[Any]) -> StoredTerms:
    return StoredTerms(description=terms[0], due_on=terms[1])


class StoredItem(msgspec.Struct, kw_only=True):
    """The fields of a listed commitment that only its own events change, stored as JSON so
    that reads splice rather than render; forum_name and overdue are added when read."""

    commitment_id: str
    forum_id: str
    description: str
    status: str
    owner_id: str
    owner_organisation_id: str | None
    requester_id: str | None
    handover_to: str | None
    purpose_ids: list[str]
    made_on: str
    due_on: str | None
    original_due_on: str | None
    asked_for: StoredTerms
    agreed: StoredTerms | None
    renegotiation_count: int
    progress: int | None
    counter_offer_pending: bool
    renegotiation_pending: bool
    meeting_id: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    version: int


_encode_item = msgspec.json.Encoder().encode


def _utc(value: datetime | str | int) -> datetime:
    """A row's timestamp, however the path that built the row holds it, as a datetime in UTC."""
    if type(value) is int:
        return from_count(value)  # as bulk builds keep them
    if type(value) is str:
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


def render_item(row: Row) -> str:
    """The stored item of a commitment row: the same text from the live and the bulk path."""
    finished = row["finished_at"]
    item = StoredItem(
        commitment_id=row["commitment_id"],
        forum_id=row["forum_id"],
        description=row["description"],
        status=row["status"],
        owner_id=row["owner_id"],
        owner_organisation_id=row["owner_organisation_id"],
        requester_id=row["requester_id"],
        handover_to=row["handover_to"],
        purpose_ids=row["purpose_ids"],
        made_on=row["made_on"],
        due_on=row["due_on"],
        original_due_on=row["original_due_on"],
        asked_for=_stored_terms(row["asked_for"]),
        agreed=None if row["agreed"] is None else _stored_terms(row["agreed"]),
        renegotiation_count=row["renegotiation_count"],
        progress=row["progress"],
        counter_offer_pending=row["offered_terms"] is not None,
        renegotiation_pending=row["proposed_terms"] is not None,
        meeting_id=row["meeting_id"],
        created_at=_utc(row["created_at"]),
        updated_at=_utc(row["updated_at"]),
        finished_at=None if finished is None else _utc(finished),
        version=row["version"],
    )
    return _encode_item(item).decode()


def ended(
    affiliations: list[Any], organisation_id: str, title: str | None, to_on: str
) -> list[Any]:
    """The affiliations with the first open one the ending names ended on to_on (ISO)."""
    for i, (organisation, role, from_on, until) in enumerate(affiliations):
        if until is None and _is_role([organisation, role], organisation_id, title):
            ended_one = [organisation, role, from_on, to_on]
            return [*affiliations[:i], ended_one, *affiliations[i + 1 :]]
    return affiliations


def new_commitment(event: RecordedEvent, owner_organisation: str | None) -> Row:
    """The row a commitment.made event creates."""
    p = event.payload
    active = p["made_by"] == p["owner_id"]
    return {
        "commitment_id": str(event.stream_id),
        "forum_id": p["forum_id"],
        "owner_id": p["owner_id"],
        "requester_id": p["requester_id"],
        "made_by": p["made_by"],
        "owner_organisation_id": owner_organisation,
        "description": p["description"],
        "purpose_ids": list(p["purpose_ids"]),
        "status": "active" if active else "proposed",
        "made_on": p["made_on"],
        "due_on": p["due_on"],
        "original_due_on": p["due_on"],
        "asked_for": _terms(p),
        "agreed": _terms(p) if active else None,
        "renegotiation_count": 0,
        "progress": None,
        "handover_to": None,
        "offered_terms": None,
        "proposed_terms": None,
        "meeting_id": p["meeting_id"],
        "created_at": event.occurred_at,
        "updated_at": event.occurred_at,
        "finished_at": None,
        "version": event.version,
    }


def _close(row: Row, status: str, event: RecordedEvent) -> None:
    row["status"] = status
    row["handover_to"] = None
    row["proposed_terms"] = None
    row["finished_at"] = event.occurred_at


def _terms(p: dict[str, Any]) -> list[Any]:
    return [p["description"], p["due_on"]]


def _correct_original(row: Row, terms: list[Any]) -> None:
    """As Commitment._correct_original: a correction before any renegotiation corrects the
    agreed terms and, unless a counter-offer was agreed, the ones asked for."""
    if row["agreed"] is None or row["agreed"] == row["asked_for"]:
        row.update(asked_for=terms, original_due_on=terms[1])
    if row["agreed"] is not None:
        row["agreed"] = terms


def apply_to_commitment(
    row: Row, event: RecordedEvent, organisation_of: Callable[[str | None, str], str | None]
) -> None:
    """Change a row as the aggregate changes itself (tracker/domain/commitment.py)."""
    p, kind = event.payload, event.type.removeprefix("commitment.")
    if kind == "accepted":
        row.update(status="active", offered_terms=None, agreed=_terms(row))
    elif kind in ("declined", "withdrawn"):
        row.update(status=kind, offered_terms=None, finished_at=event.occurred_at)
    elif kind == "counter_offered":
        row["offered_terms"] = _terms(p)
    elif kind == "counter_offer_accepted":
        description, due_on = row["offered_terms"]
        row.update(description=description, due_on=due_on, agreed=row["offered_terms"])
        row.update(offered_terms=None, status="active")
    elif kind == "progress_reported":
        row["progress"] = p["percent"]
    elif kind == "renegotiated":
        row.update(description=p["description"], due_on=p["due_on"])
        row["renegotiation_count"] += 1
    elif kind == "renegotiation_proposed":
        row["proposed_terms"] = _terms(p)
    elif kind == "renegotiation_agreed":
        description, due_on = row["proposed_terms"]
        row.update(description=description, due_on=due_on, proposed_terms=None)
        row["renegotiation_count"] += 1
    elif kind == "renegotiation_rejected":
        row["proposed_terms"] = None
    elif kind == "handover_offered":
        row["handover_to"] = p["to_id"]
    elif kind == "handover_accepted":
        # The new owner's organisation on the day they took it on (in UTC: the event carries
        # no forum day, and the live and bulk paths must agree).
        day = event.occurred_at.astimezone(UTC).date().isoformat()
        row.update(
            owner_id=p["by"], handover_to=None, owner_organisation_id=organisation_of(p["by"], day)
        )
    elif kind in ("handover_declined", "handover_withdrawn"):
        row["handover_to"] = None
    elif kind in ("released", "completed", "cancelled"):
        _close(row, kind, event)
    elif kind == "acknowledged":
        row["status"] = "acknowledged"
    elif kind in ("disputed", "reopened"):
        row.update(status="active", finished_at=None)
    elif kind == "purpose_linked":
        row["purpose_ids"] = [*row["purpose_ids"], p["purpose_id"]]
    elif kind == "purpose_unlinked":
        row["purpose_ids"] = [x for x in row["purpose_ids"] if x != p["purpose_id"]]
    elif kind == "record_corrected":
        row.update(description=p["description"], due_on=p["due_on"])
        if row["renegotiation_count"] == 0:
            _correct_original(row, _terms(p))
    row["updated_at"] = event.occurred_at
    row["version"] = event.version


def _is_role(role: list[str], organisation_id: str, title: str | None) -> bool:
    """Whether a current role is the one an ending names (a v1 ending names no title)."""
    same = title is None or role[1].strip().casefold() == title.strip().casefold()
    return role[0] == organisation_id and same


@dataclass
class CommitmentFold:
    """Rows of the commitment views, changed event by event."""

    forums: dict[str, Row] = field(default_factory=dict)
    leaders: dict[str, Row] = field(default_factory=dict)
    organisations: dict[str, Row] = field(default_factory=dict)
    commitments: dict[str, Row] = field(default_factory=dict)
    changes: list[Any] = field(default_factory=list)
    dirty: set[tuple[str, str]] = field(default_factory=set)

    def apply(self, event: RecordedEvent) -> None:
        """Fold one event into the rows it touches."""
        stream, kind = event.stream_type, event.type
        if stream == "forum":
            self._forum(event)
        elif stream == "leader" and kind in LEADER_EVENTS:
            self._leader(event)
        elif stream == "organisation" and kind in ORGANISATION_EVENTS:
            # The name the views show beside the id; a rename shows everywhere at once.
            key = str(event.stream_id)
            self.organisations[key] = {"organisation_id": key, "name": event.payload["name"]}
            self.dirty.add(("organisation", key))
        elif stream == "commitment":
            self._commitment(event)

    def _forum(self, event: RecordedEvent) -> None:
        key, p, kind = str(event.stream_id), event.payload, event.type.removeprefix("forum.")
        if kind == "convened":
            self.forums[key] = {
                "forum_id": key,
                "name": p["name"],
                "timezone": p["timezone"],
                "members": [p["convenor_id"]],
                "stewards": [[p["convenor_id"], "convenor"]],
            }
            self.dirty.add(("forum", key))
            return
        forum = self.forums[key]
        if kind == "renamed":
            forum["name"] = p["name"]
        elif kind == "member_joined" and p["leader_id"] not in forum["members"]:
            forum["members"] = [*forum["members"], p["leader_id"]]
        elif kind == "member_left":
            forum["members"] = [m for m in forum["members"] if m != p["leader_id"]]
        elif kind == "steward_appointed":
            pair = [p["leader_id"], p["role"]]
            if pair not in forum["stewards"]:
                forum["stewards"] = [*forum["stewards"], pair]
        elif kind == "steward_stood_down":
            forum["stewards"] = [s for s in forum["stewards"] if s != [p["leader_id"], p["role"]]]
        self.dirty.add(("forum", key))

    def _leader(self, event: RecordedEvent) -> None:
        key, p = str(event.stream_id), event.payload
        empty: Row = {"leader_id": key, "name": "", "organisation_id": None, "title": None}
        empty["affiliations"] = []
        leader = self.leaders.setdefault(key, empty)
        held = leader["affiliations"]
        if event.type in ("leader.registered", "leader.details_corrected"):
            leader["name"] = p["name"]
        elif event.type == "leader.affiliation_recorded":
            held = [*held, [p["organisation_id"], p["title"], p["from_on"], None]]
        elif event.type == "leader.affiliation_ended":
            held = ended(held, p["organisation_id"], p.get("title"), p["to_on"])
        leader["affiliations"] = held
        # The organisation shown is the newest current role's.
        current = [a for a in held if a[3] is None]
        leader["organisation_id"] = current[-1][0] if current else None
        leader["title"] = current[-1][1] if current else None
        self.dirty.add(("leader", key))

    def organisation_of(self, leader_id: str | None, day: str) -> str | None:
        """The leader's organisation on the day (ISO), as far as this view knows: the
        affiliation that held then, the most recently begun if several did (as Leader has it)."""
        leader = self.leaders.get(leader_id or "")
        if leader is None:
            return None
        held = [a for a in leader["affiliations"] if a[2] <= day and (a[3] is None or day <= a[3])]
        return max(held, key=lambda a: a[2])[0] if held else None

    def _commitment(self, event: RecordedEvent) -> None:
        key = str(event.stream_id)
        if event.type == "commitment.made":
            p = event.payload
            row = new_commitment(event, self.organisation_of(p["owner_id"], p["made_on"]))
            self.commitments[key] = row
        else:
            row = self.commitments[key]
            apply_to_commitment(row, event, self.organisation_of)
        self.dirty.add(("commitment", key))
        self.changed(event, row)

    def changed(self, event: RecordedEvent, row: Row) -> None:
        """Record the change an event made to a commitment: one row of commitment_changes."""
        self.changes.append(
            {
                "commitment_id": event.stream_id,
                "version": event.version,
                "position": event.position,
                "type": event.type,
                "actor": event.actor,
                "occurred_at": event.occurred_at,
                "status": row["status"],
                "due_on": row["due_on"],
                "progress": row["progress"],
                "opened_tx": event.transaction_id,
                "opened_pos": event.position,
            }
        )

    def table(self, kind: str) -> dict[str, Row]:
        """The rows of one kind."""
        return {
            "forum": self.forums,
            "leader": self.leaders,
            "organisation": self.organisations,
            "commitment": self.commitments,
        }[kind]

    def touched(self, kind: str) -> list[Row]:
        """The rows of one kind that events changed."""
        table = self.table(kind)
        return [table[key] for k, key in self.dirty if k == kind]
