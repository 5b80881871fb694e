"""Name the first event that differs from a saved head that the log no longer reproduces."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from tracker.audit import merkle, tree
from tracker.audit.findings import Finding, Report
from tracker.audit.locate import AsyncSubtree, Leaves, first_difference
from tracker.audit.verify_heads import Heads, Saved
from tracker.eventstore import CopiedEvent
from tracker.eventstore.transfer import copy_log

DECODE = msgspec.json.Decoder(CopiedEvent).decode

SEALED_POSITION = "SELECT position FROM merkle_leaves WHERE leaf_index = $1"


class Exported(msgspec.Struct):
    """What a leaf commits to, as an export line carries it."""

    position: int
    stream_id: UUID
    version: int
    recorded_at: datetime
    hash: str


class Earlier:
    """A copy of the log the auditor kept (a full export): its leaves and its events' names."""

    def __init__(self, events: list[Exported]) -> None:
        self.events = events
        self.leaves = Leaves()
        self.leaves.extend(
            [
                merkle.leaf(
                    e.position, e.stream_id, e.version, e.recorded_at, bytes.fromhex(e.hash)
                )
                for e in events
            ]
        )

    @classmethod
    def read(cls, path: Path) -> Earlier:
        """Read a full export (NDJSON)."""
        decode = msgspec.json.Decoder(Exported).decode
        with path.open("rb") as file:
            return cls([decode(line) for line in file if line.strip()])


Named = tuple[int, UUID, int]  # position, stream, version


async def locate_changes(
    events: Any,
    leaves_conn: Any,
    log: Leaves,
    heads: Heads,
    report: Report,
    earlier: Earlier | None,
) -> None:
    """For the smallest saved head the log does not reproduce, name the first event that
    differs, from whichever authentic copy of that tree is at hand."""
    if not heads.mismatched:
        return
    head = min(heads.mismatched, key=lambda h: h.tree_size)
    source = await _authentic(leaves_conn, head, earlier)
    if source is None:
        report.add(_unlocated(head, heads.matched))
        return
    name, theirs = source
    index = await first_difference(head.tree_size, log, theirs)
    now = await event_at(events, index) if index < len(log) else None
    if name == "earlier" and earlier is not None:
        e = earlier.events[index]
        was: Named = (e.position, e.stream_id, e.version)
        subject: Named | None = was
    else:
        # The stored tree knows only the position it sealed there.
        sealed = await leaves_conn.fetchval(SEALED_POSITION, index)
        was = (sealed, None, None)  # type: ignore[assignment]
        same = now is not None and now[0] == sealed
        subject = now if same else was
    report.add(_located(head, index, now, was, subject, name))


async def _authentic(
    conn: Any, head: Saved, earlier: Earlier | None
) -> tuple[str, AsyncSubtree] | None:
    """A copy of the sealed tree whose root at the head's size is the head's: the stored tree
    if it was left alone, else the export the auditor kept."""
    try:
        if await tree.subtree(conn, 0, head.tree_size) == head.root_hash:
            return "stored", lambda start, end: tree.subtree(conn, start, end)
    except (tree.TreeDamaged, tree.OutsideTree):
        pass
    if earlier is not None and earlier.leaves.subtree(0, head.tree_size) == head.root_hash:
        return "earlier", earlier.leaves.subtree_async
    return None


async def event_at(conn: Any, index: int) -> Named | None:
    """The event at this place in the log's order, from one more pass over the log in conn's
    snapshot (only the event store reads the events table; this runs once, on a mismatch)."""
    found: list[Named] = []
    seen, rest = 0, b""

    async def pick(data: bytes) -> None:
        nonlocal seen, rest
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        if seen <= index < seen + len(lines):
            # COPY's text format escapes only backslashes here (see verify._Pass.feed).
            row = DECODE(lines[index - seen].replace(b"\\\\", b"\\"))
            found.append((row.position, UUID(row.stream_id), row.version))
        seen += len(lines)

    await copy_log(conn, pick)
    return found[0] if found else None


def _text(named: Named | None) -> str:
    if named is None:
        return "no event"
    position, stream, version = named
    if stream is None:
        return f"position {position}"
    return f"stream {stream} version {version} (position {position})"


def _located(
    head: Saved, index: int, now: Named | None, was: Named, subject: Named | None, source: str
) -> Finding:
    copy = "the stored tree" if source == "stored" else "the earlier export"
    position, stream, version = subject if subject is not None else (None, None, None)
    return Finding(
        kind="change",
        message=f"saved head of size {head.tree_size}: the first event that differs is number "
        f"{index + 1} of the log (leaf {index}): sealed as {_text(was)} ({copy} reproduces the "
        f"head), the log now has {_text(now)} there",
        stream_id=stream,
        version=version,
        position=position,
        tree_size=head.tree_size,
    )


def _unlocated(head: Saved, matched: int) -> Finding:
    return Finding(
        kind="change",
        message=f"saved head of size {head.tree_size}: the first change is among events "
        f"{matched + 1:,} to {head.tree_size:,} (no saved head between matches); neither the "
        "stored tree nor an earlier export (--earlier) reproduces the head, so the event "
        "cannot be named",
        tree_size=head.tree_size,
    )
