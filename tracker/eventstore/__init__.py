"""The event store: an append-only PostgreSQL table read in commit-safe global order."""

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
