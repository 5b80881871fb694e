"""Server-sent events: the log as the caller may read it, each message's id its checkpoint."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import msgspec

from projections.queries.names import names_of_ids
from tracker.application.principal import Principal
from tracker.application.subscriptions import Filter, receives
from tracker.domain import InvalidValue
from tracker.eventstore import Checkpoint, EventStore
from tracker.eventstore.repository import Repository
from tracker.feed.payload import feed_event, mentioned_by

MEDIA_TYPE = "text/event-stream"
PAGE = 500
CHECKPOINT = re.compile(r"^([0-9]{1,19}):([0-9]{1,19})$")
MAX_BIGINT = 2**63 - 1


def parse_checkpoint(name: str, text: str) -> Checkpoint:
    """A checkpoint written `<transaction_id>:<position>`; a 400-free 422 naming the field."""
    found = CHECKPOINT.fullmatch(text.strip())
    if found is None or max(int(found.group(1)), int(found.group(2))) > MAX_BIGINT:
        raise InvalidValue(name, "a checkpoint this feed sent, <transaction_id>:<position>")
    return Checkpoint(int(found.group(1)), int(found.group(2)))


def message(event_id: str, event_type: str, data: bytes) -> bytes:
    """One SSE message (the JSON has no newline, so one data line)."""
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (event_id.encode(), event_type.encode(), data)


async def stream(
    store: EventStore,
    repository: Repository,
    principal: Principal,
    only: Filter,
    after: Checkpoint,
    until: Checkpoint | None,
    heartbeat: float,
) -> AsyncIterator[bytes]:
    """The readable, selected events after a checkpoint, up to `until` if given (then the
    stream ends), or else forever as they come, with a comment line whenever `heartbeat`
    seconds pass without a message."""
    loop = asyncio.get_running_loop()
    cursor = after
    # A first line at once, so that clients and proxies see the stream open.
    yield b": stream open\n\n"
    last = loop.time()
    while True:
        page = await store.read_all(cursor, PAGE)
        selected = [
            event
            for event in page.events
            if await receives(
                repository,
                principal,
                only,
                event.stream_type,
                event.stream_id,
                event.type,
                (event.actor, event.on_behalf_of),
            )
        ]
        # One lookup per page, of the ids in the events this caller receives, and no others.
        names = await names_of_ids(store.pool, mentioned_by(selected))
        for event in selected:
            event_id = f"{event.transaction_id}:{event.position}"
            yield message(event_id, event.type, msgspec.json.encode(feed_event(event, names)))
            last = loop.time()
        if page.events:
            cursor = page.events[-1].checkpoint
        if until is not None and cursor >= until:
            return
        if len(page.events) == PAGE:
            continue
        wait = max(0.0, min(store.poll_interval, last + heartbeat - loop.time()))
        await store.watcher.wait(wait)
        if loop.time() - last >= heartbeat:
            yield b": heartbeat\n\n"
            last = loop.time()
