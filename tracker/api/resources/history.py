"""Reading history: the global log, one stream, and a commitment's changes told for people."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import asyncpg
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from projections.queries.names import leader_names
from tracker.api.dependencies import PrincipalDep, RepositoryDep
from tracker.api.resources.common import COMMAND_ERRORS, READ_ERRORS
from tracker.api.resources.history_schemas import (
    CommitmentHistory,
    EventEnvelope,
    EventPage,
    StreamEvents,
    decode_cursor,
    encode_cursor,
)
from tracker.api.resources.history_text import leader_ids, named, replay_page
from tracker.api.schemas import time_query
from tracker.application.audit import check_history_reader, check_log_reader, check_stream_reader
from tracker.application.ports import NotFound
from tracker.domain import InvalidValue
from tracker.domain.time_range import require_within
from tracker.eventstore import Checkpoint, LogFilter
from tracker.eventstore.log import read_filtered
from tracker.eventstore.store import MAX_VERSION

ERRORS = READ_ERRORS | {403: COMMAND_ERRORS[403], 422: COMMAND_ERRORS[422]}
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

LOG_DESCRIPTION = f"""\
The global log in commit-safe order, `(transaction_id, position)`, a page at a time of at most
`limit` events (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}): pass `next_cursor` back as
`cursor` for the next page (null on the last page). `resume_cursor` is where to continue later,
once the log has grown. Filters combine with AND; the time range is half-open: `recorded_after
<= recorded_at < recorded_before`. Each event carries its whole envelope and its chain hash in
hex. Auditors and admins only.
"""
STREAM_DESCRIPTION = f"""\
One stream's events in version order, a page at a time: at most `limit` events (default
{DEFAULT_LIMIT}, at most {MAX_LIMIT}) after `after_version`; pass `next_after_version` back as
`after_version` for the next page (null on the last page).

**Access**: auditors and admins read every stream. Others read the streams of a forum they can
see live (as in the views: leaders their forums, integrations the forums their token is
limited to): the forum's own stream, and those of its commitments, purposes, meetings and
agreements (a purpose's agreement belongs to the purpose's forum). Leader and organisation
streams are for auditors and admins only.
"""
HISTORY_DESCRIPTION = f"""\
Every change to the commitment, oldest first, a page at a time: at most `limit` entries
(default {DEFAULT_LIMIT}, at most {MAX_LIMIT}) after `after_version`; pass
`next_after_version` back as `after_version` for the next page (null on the last page). Each
entry says who (actor, and on whose behalf, each with a display name: a leader's current name
from the views, or an integration's name), when (business time `occurred_at` and
`recorded_at`), the event type, a sentence for people, the `reason` or `note` given (where
the step takes one), and what changed in the commitment's public state
(`GET /commitments/{{id}}`, without its names) as before and after values, also the first
entry of a page. Leaders see the history of commitments in forums they can see live;
auditors and admins see all.
"""


def _q(description: str) -> QueryParameter:
    return QueryParameter(description=description)


def _text(description: str) -> QueryParameter:
    # PostgreSQL text cannot hold NUL: refuse it as a parameter error rather than fail later.
    return QueryParameter(description=description, max_length=400, pattern=r"^[^\x00]*$")


Limit = Annotated[
    int, QueryParameter(description=f"At most this many events (1-{MAX_LIMIT})", ge=1, le=MAX_LIMIT)
]


AfterVersion = Annotated[
    int,
    QueryParameter(
        description="Only versions after this one (next_after_version of the previous page)",
        ge=0,
        le=MAX_VERSION - 1,
    ),
]


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        # A time without an offset means different moments to different readers.
        raise InvalidValue(name, "needs a UTC offset, such as Z or +01:00")
    require_within(name, value)
    return value


class EventLogController(Controller):
    """The global log, for auditors and admins."""

    path = "/events"
    tags = ("history",)

    @get(
        operation_id="listEvents",
        summary="Read the global log in order, filtered, a page at a time",
        description=LOG_DESCRIPTION,
        responses=ERRORS,
    )
    async def list_events(
        self,
        principal: PrincipalDep,
        state: State,
        cursor: Annotated[str | None, _text("next_cursor or resume_cursor of a page")] = None,
        limit: Limit = DEFAULT_LIMIT,
        stream_id: Annotated[UUID | None, _q("Only this stream's events")] = None,
        stream_type: Annotated[
            str | None, _text("Only streams of this type, e.g. commitment")
        ] = None,
        type: Annotated[str | None, _text("Only this event type, e.g. commitment.made")] = None,
        actor: Annotated[str | None, _text("Only events by this actor, e.g. leader:<id>")] = None,
        on_behalf_of: Annotated[str | None, _text("Only events recorded on this behalf")] = None,
        source: Annotated[str | None, _text("Only events from this source")] = None,
        recorded_after: Annotated[
            datetime | None, time_query("Only events recorded at or after this time")
        ] = None,
        recorded_before: Annotated[
            datetime | None, time_query("Only events recorded before this time")
        ] = None,
    ) -> EventPage:
        """Keyset pages over (transaction_id, position), up to the commit-safe horizon."""
        check_log_reader(principal)
        only = LogFilter(
            stream_id=stream_id,
            stream_type=stream_type,
            types=None if type is None else [type],
            actor=actor,
            on_behalf_of=on_behalf_of,
            source=source,
            since=_aware("recorded_after", recorded_after),
            until=_aware("recorded_before", recorded_before),
        )
        return await _log_page(state.pool, cursor, limit, only)


async def _log_page(
    pool: asyncpg.Pool, cursor: str | None, limit: int, only: LogFilter
) -> EventPage:
    """The page after the cursor, and the cursors to go on from."""
    after = decode_cursor(cursor) if cursor is not None else Checkpoint()
    # One event more than asked says whether there is a next page.
    found = await read_filtered(pool, after, limit + 1, only)
    events = found[:limit]
    resume = encode_cursor(events[-1].checkpoint) if events else (cursor or encode_cursor(after))
    return EventPage(
        events=[EventEnvelope.of(e) for e in events],
        next_cursor=resume if len(found) > limit else None,
        resume_cursor=resume,
    )


class StreamEventsController(Controller):
    """One stream's events."""

    path = "/streams"
    tags = ("history",)

    @get(
        "/{stream_id:uuid}/events",
        operation_id="listStreamEvents",
        summary="Read one stream's events in version order",
        description=STREAM_DESCRIPTION,
        responses=ERRORS,
    )
    async def list_stream_events(
        self,
        stream_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        after_version: AfterVersion = 0,
        limit: Limit = DEFAULT_LIMIT,
    ) -> StreamEvents:
        """404 for an unknown stream; then access by the stream's forum."""
        info = await repository.store.stream_info(stream_id)
        if info is None:
            raise NotFound("stream", stream_id)
        await check_stream_reader(repository, principal, info.stream_type, stream_id)
        to = min(after_version + limit + 1, info.version)
        records = await repository.store.read_stream(stream_id, to, from_version=after_version + 1)
        page = records[:limit]
        return StreamEvents(
            stream_id=stream_id,
            stream_type=info.stream_type,
            version=info.version,
            events=[EventEnvelope.of(e) for e in page],
            next_after_version=page[-1].version if len(records) > limit else None,
        )


class CommitmentHistoryController(Controller):
    """A commitment's history, readable by a person."""

    path = "/commitments"
    tags = ("history",)

    @get(
        "/{commitment_id:uuid}/history",
        operation_id="getCommitmentHistory",
        summary="Read a commitment's history: who changed what, when, before and after",
        description=HISTORY_DESCRIPTION,
        responses=ERRORS,
    )
    async def commitment_history(
        self,
        commitment_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        state: State,
        after_version: AfterVersion = 0,
        limit: Limit = DEFAULT_LIMIT,
    ) -> CommitmentHistory:
        """Replay the stream through the aggregate, diffing its public state at each event."""
        # Access first, from the cached aggregate, so that a refused caller costs no replay.
        await check_history_reader(repository, principal, commitment_id)
        info = await repository.store.stream_info(commitment_id)
        if info is None:
            raise NotFound("commitment", commitment_id)
        commitment, entries = await replay_page(repository, commitment_id, after_version, limit)
        page = entries[:limit]
        page = named(page, await leader_names(state.pool, leader_ids(page)))
        return CommitmentHistory(
            commitment_id=commitment_id,
            forum_id=commitment.forum_id,
            version=info.version,
            entries=page,
            next_after_version=page[-1].version if len(entries) > limit else None,
        )
