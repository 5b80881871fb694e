"""The governance views' history: a version of each row an event changes, live and in bulk."""

from __future__ import annotations

from projections.governance_fold import GovernanceFold
from projections.history import History, record_dirty
from tracker.eventstore import RecordedEvent

# The table of each kind of row the fold marks as changed, and the columns naming a row.
TABLES = {"purpose": "purposes", "agreement": "agreements", "meeting": "meetings"}
KEYS = {
    "purposes": ("purpose_id",),
    "purpose_endorsements": ("purpose_id", "leader_id"),
    "agreements": ("agreement_id",),
    "meetings": ("meeting_id",),
    "meeting_attendance": ("meeting_id", "leader_id"),
}


def record(fold: GovernanceFold, event: RecordedEvent, history: History) -> None:
    """Fold one event, keeping a version of each row it changed (or the end of one)."""
    for kind, key in record_dirty(fold, event):
        history.put(TABLES[kind], event, fold.table(kind)[key])
    stream = str(event.stream_id)
    if event.type == "purpose.endorsed":
        history.put("purpose_endorsements", event, fold.endorsements[(stream, event.payload["by"])])
    elif event.type == "purpose.endorsement_withdrawn":
        history.put("purpose_endorsements", event, None, (stream, event.payload["by"]))
    elif event.type == "meeting.attendance_recorded":
        for a in event.payload["attendees"]:
            history.put("meeting_attendance", event, fold.attendance[(stream, a["leader_id"])])
