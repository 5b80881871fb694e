"""The directory's history: a version of each row an event changes, live and in bulk."""

from __future__ import annotations

from projections.directory_fold import DirectoryFold
from projections.history import History, record_dirty
from tracker.eventstore import RecordedEvent

# The table of each kind of row the fold marks as changed, and the columns naming a row.
TABLES = {
    "organisation": "directory_organisations",
    "leader": "directory_leaders",
    "forum": "directory_forums",
    "member": "directory_members",
}
KEYS = {
    "directory_organisations": ("organisation_id",),
    "directory_leaders": ("leader_id",),
    "directory_forums": ("forum_id",),
    "directory_members": ("forum_id", "leader_id"),
}


def record(fold: DirectoryFold, event: RecordedEvent, history: History) -> None:
    """Fold one event, keeping a version of each row it changed (or the end of a membership)."""
    for kind, key in record_dirty(fold, event):
        history.put(TABLES[kind], event, fold.table(kind)[key])
    if event.type == "forum.member_left":
        # The fold forgets a departed member's row rather than marking it: its version ends here.
        history.put(
            "directory_members", event, None, (str(event.stream_id), event.payload["leader_id"])
        )
