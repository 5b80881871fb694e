"""The commitments domain: pure aggregates and events on `eventsourcing.domain`, no I/O."""

from tracker.domain.agreement import Agreement
from tracker.domain.commitment import Commitment
from tracker.domain.errors import DomainError, IllegalTransition, InvalidValue, NotAllowed
from tracker.domain.forum import Forum
from tracker.domain.leader import Affiliation, Leader
from tracker.domain.meeting import Attendance, Meeting
from tracker.domain.organisation import Organisation
from tracker.domain.purpose import Purpose
from tracker.domain.registry import EVENT_TYPES, STREAM_TYPES, TYPE_NAMES
from tracker.domain.values import AffiliationSnapshot

__all__ = [
    "EVENT_TYPES",
    "STREAM_TYPES",
    "TYPE_NAMES",
    "Affiliation",
    "AffiliationSnapshot",
    "Agreement",
    "Attendance",
    "Commitment",
    "DomainError",
    "Forum",
    "IllegalTransition",
    "InvalidValue",
    "Leader",
    "Meeting",
    "NotAllowed",
    "Organisation",
    "Purpose",
]
