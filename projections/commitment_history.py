"""The commitment views' history: a version of each row an event changes, live and in bulk."""

from __future__ import annotations

from projections.commitment_fold import CommitmentFold
from projections.history import History, record_dirty
from tracker.eventstore import RecordedEvent

# The table of each kind of row the fold keeps, and the columns naming a row.
TABLES = {
    "forum": "forums",
    "leader": "leader_organisations",
    "organisation": "organisations",
    "commitment": "commitments",
}
KEYS = {
    "forums": ("forum_id",),
    "leader_organisations": ("leader_id",),
    "organisations": ("organisation_id",),
    "commitments": ("commitment_id",),
}


def record(fold: CommitmentFold, event: RecordedEvent, history: History) -> None:
    """Fold one event, keeping a version of each row it changed."""
    for kind, key in record_dirty(fold, event):
        # A commitment's version leaves out its stored item: past.commitments computes it.
        history.put(TABLES[kind], event, fold.table(kind)[key])
