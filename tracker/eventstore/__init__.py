"""The event store: an append-only PostgreSQL table read in commit-safe global order.

Every statement on the `events` table lives in this package, each module with one job: store
(append, read a stream, follow the log), log (the global log, filtered or not, and where it
ends), past (the log as of a position or a moment), scan (the bulk folds' read), transfer
(export, import, and the COPY that verification reads). Every read returns the one envelope,
RecordedEvent, or a form of it encoded for a fast path (envelope.py).
"""

from tracker.eventstore.chain import ChainBreak, verify_chain
from tracker.eventstore.envelope import (
    START,
    SYSTEM,
    Appended,
    AppendResult,
    Checkpoint,
    Context,
    CopiedEvent,
    ExportedEvent,
    NewEvent,
    Page,
    RecordedEvent,
    StreamAppend,
    StreamInfo,
)
from tracker.eventstore.log import LogFilter
from tracker.eventstore.store import EventStore

__all__ = [
    "START",
    "SYSTEM",
    "AppendResult",
    "Appended",
    "ChainBreak",
    "Checkpoint",
    "Context",
    "CopiedEvent",
    "EventStore",
    "ExportedEvent",
    "LogFilter",
    "NewEvent",
    "Page",
    "RecordedEvent",
    "StreamAppend",
    "StreamInfo",
    "verify_chain",
]
