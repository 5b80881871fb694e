"""Reading history: the global log, one stream, and a commitment's changes told for people."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from tracker.api.dependencies import PrincipalDep, RepositoryDep
from tracker.api.resources.commitments import CommitmentState
from tracker.api.resources.common import COMMAND_ERRORS, READ_ERRORS
from tracker.application import policy
from tracker.application.principal import ADMIN, AUDITOR, Principal
from tracker.database import MAX_BIGINT
from tracker.domain import (
    Agreement,
    Commitment,
    Forum,
    InvalidValue,
    Meeting,
    NotAllowed,
    Purpose,
)
from tracker.domain.agreement import FORUM
from tracker.eventstore import Checkpoint, RecordedEvent, StreamInfo
from tracker.eventstore.repository import AggregateNotFound, Repository
from tracker.eventstore.store import COLUMNS, MAX_VERSION

LOG_RULE = "only-auditors-and-admins-read-the-log"
STREAM_RULE = "only-auditors-and-admins-read-this-stream"
FORUM_RULE = "only-forum-members-read-its-history"
ERRORS = READ_ERRORS | {403: COMMAND_ERRORS[403], 422: COMMAND_ERRORS[422]}
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

# Stops at the horizon, as the store's read_all does: an event still being committed behind
# a page's last event would otherwise be skipped by the next page.
LOG_PAGE = f"""
SELECT {COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()){{where}}
ORDER BY transaction_id, position
LIMIT $3
"""
# Each filter's predicate; {} is its parameter. The planner sees only the filters in use.
LOG_FILTERS = {
    "stream_id": "stream_id = {}::uuid",
    "stream_type": "stream_type = {}",
    "type": "type = {}",
    "actor": "actor = {}",
    "on_behalf_of": "on_behalf_of = {}",
    "source": "source = {}",
    "recorded_after": "recorded_at >= {}::timestamptz",
    "recorded_before": "recorded_at < {}::timestamptz",
}

LOG_DESCRIPTION = """\
The global log in commit-safe order, `(transaction_id, position)`, a page at a time: pass
`next_cursor` back as `cursor` for the next page (null on the last page). `resume_cursor` is
where to continue later, once the log has grown. Filters combine with AND; the time range is
half-open: `recorded_after <= recorded_at < recorded_before`. Each event carries its whole
envelope and its chain hash in hex. Auditors and admins only.
"""
STREAM_DESCRIPTION = """\
One stream's events in version order, a page at a time (`after_version`, `limit`).

**Access**: auditors and admins read every stream. Others read the streams of a forum they can
see live (as in the views: leaders their forums, integrations the forums their token is
limited to): the forum's own stream, and those of its commitments, purposes, meetings and
agreements (a purpose's agreement belongs to the purpose's forum). Leader and organisation
streams are for auditors and admins only.
"""
HISTORY_DESCRIPTION = """\
Every change to the commitment, oldest first: who (actor, and on whose behalf), when (business
time `occurred_at` and `recorded_at`), the event type, a sentence for people, and what changed
in the commitment's public state (`GET /commitments/{id}`) as before and after values. Leaders
see the history of commitments in forums they can see live; auditors and admins see all.
"""


def _q(description: str) -> QueryParameter:
    return QueryParameter(description=description)


def _text(description: str) -> QueryParameter:
    # PostgreSQL text cannot hold NUL: refuse it as a parameter error rather than fail later.
    return QueryParameter(description=description, max_length=400, pattern=r"^[^\x00]*$")


Limit = Annotated[
    int, QueryParameter(description=f"At most this many events (1-{MAX_LIMIT})", ge=1, le=MAX_LIMIT)
]


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """An event as stored: every envelope field, the payload, and the chain hash in hex."""

    position: int
    transaction_id: int
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    type_version: int
    payload: Any
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    on_behalf_of: str | None
    source: str | None
    correlation_id: UUID | None
    causation_id: UUID | None
    hash: str

    @classmethod
    def of(cls, e: RecordedEvent) -> EventEnvelope:
        """The envelope of a stored event."""
        return cls(
            position=e.position,
            transaction_id=e.transaction_id,
            stream_id=e.stream_id,
            stream_type=e.stream_type,
            version=e.version,
            type=e.type,
            type_version=e.type_version,
            payload=e.payload,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            actor=e.actor,
            on_behalf_of=e.on_behalf_of,
            source=e.source,
            correlation_id=e.correlation_id,
            causation_id=e.causation_id,
            hash=e.hash.hex(),
        )


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the log."""

    events: list[EventEnvelope]
    next_cursor: str | None
    resume_cursor: str


class StreamEvents(msgspec.Struct, frozen=True, kw_only=True):
    """A page of one stream; next_after_version is null on the last page."""

    stream_id: UUID
    stream_type: str
    version: int
    events: list[EventEnvelope]
    next_after_version: int | None


class FieldChange(msgspec.Struct, frozen=True):
    """One field of the commitment's public state, before and after a change."""

    field: str
    before: Any
    after: Any


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One change: who, when, what kind, in words, and which fields it changed."""

    version: int
    position: int
    type: str
    summary: str
    actor: str
    on_behalf_of: str | None
    source: str | None
    occurred_at: datetime
    recorded_at: datetime
    changes: list[FieldChange]


class CommitmentHistory(msgspec.Struct, frozen=True, kw_only=True):
    """A commitment's changes, oldest first."""

    commitment_id: UUID
    forum_id: UUID
    version: int
    entries: list[HistoryEntry]


def encode_cursor(checkpoint: Checkpoint) -> str:
    """An opaque token for the place after this checkpoint."""
    raw = msgspec.json.encode([checkpoint.transaction_id, checkpoint.position])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Checkpoint:
    """The checkpoint a cursor stands for; 422 for anything this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        transaction_id, position = msgspec.json.decode(raw, type=tuple[int, int])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidValue("cursor", "not a cursor this API returned") from None
    if not (0 <= transaction_id <= MAX_BIGINT and 0 <= position <= MAX_BIGINT):
        raise InvalidValue("cursor", "not a cursor this API returned")
    return Checkpoint(transaction_id, position)


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        # A time without an offset means different moments to different readers.
        raise InvalidValue(name, "needs a UTC offset, such as Z or +01:00")
    return value


def _log_reader(principal: Principal) -> None:
    if principal.kind not in (AUDITOR, ADMIN):
        raise NotAllowed(LOG_RULE, principal.leader_id)


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
            datetime | None, _q("Only events recorded at or after this time")
        ] = None,
        recorded_before: Annotated[
            datetime | None, _q("Only events recorded before this time")
        ] = None,
    ) -> EventPage:
        """Keyset pages over (transaction_id, position), up to the commit-safe horizon."""
        _log_reader(principal)
        after = decode_cursor(cursor) if cursor is not None else Checkpoint()
        args: list[object] = [after.transaction_id, after.position, limit + 1]
        where = []
        given = {
            "stream_id": stream_id,
            "stream_type": stream_type,
            "type": type,
            "actor": actor,
            "on_behalf_of": on_behalf_of,
            "source": source,
            "recorded_after": _aware("recorded_after", recorded_after),
            "recorded_before": _aware("recorded_before", recorded_before),
        }
        for name, value in given.items():
            if value is not None:
                args.append(value)
                where.append("\n  AND " + LOG_FILTERS[name].format(f"${len(args)}"))
        rows = await state.pool.fetch(LOG_PAGE.format(where="".join(where)), *args)
        # One row more than asked says whether there is a next page.
        events = [RecordedEvent(*r) for r in rows[:limit]]
        resume = (
            encode_cursor(events[-1].checkpoint) if events else (cursor or encode_cursor(after))
        )
        return EventPage(
            events=[EventEnvelope.of(e) for e in events],
            next_cursor=resume if len(rows) > limit else None,
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
        after_version: Annotated[
            int,
            QueryParameter(
                description="Only versions after this one (next_after_version)",
                ge=0,
                le=MAX_VERSION - 1,
            ),
        ] = 0,
        limit: Limit = DEFAULT_LIMIT,
    ) -> StreamEvents:
        """404 for an unknown stream; then access by the stream's forum."""
        info = await repository.store.stream_info(stream_id)
        if info is None:
            raise AggregateNotFound("stream", stream_id)
        await _require_stream_reader(repository, principal, info)
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


async def _require_stream_reader(
    repository: Repository, principal: Principal, info: StreamInfo
) -> None:
    """Auditors and admins read any stream; others only streams of a forum they can see."""
    if principal.kind in (AUDITOR, ADMIN):
        return
    forum_id = await _forum_of(repository, info)
    if forum_id is None:
        raise NotAllowed(STREAM_RULE, principal.leader_id)
    await _require_forum(repository, principal, forum_id)


async def _forum_of(repository: Repository, info: StreamInfo) -> UUID | None:
    """The forum a stream belongs to, from its aggregate; None for leaders, organisations."""
    match info.stream_type:
        case "forum":
            return info.stream_id
        case "commitment":
            return (await repository.read(Commitment, info.stream_id)).forum_id
        case "purpose":
            return (await repository.read(Purpose, info.stream_id)).forum_id
        case "meeting":
            return (await repository.read(Meeting, info.stream_id)).forum_id
        case "agreement":
            agreement = await repository.read(Agreement, info.stream_id)
            if agreement.scope == FORUM:
                return agreement.scope_id
            return (await repository.read(Purpose, agreement.scope_id)).forum_id
    return None


async def _require_forum(repository: Repository, principal: Principal, forum_id: UUID) -> None:
    """policy.sees_forum over the forum's members as they are now."""
    forum = await repository.read(Forum, forum_id)
    if not policy.sees_forum(principal, forum.id, list(forum.members)):
        raise NotAllowed(FORUM_RULE, principal.leader_id)


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
        self, commitment_id: FromPath[UUID], principal: PrincipalDep, repository: RepositoryDep
    ) -> CommitmentHistory:
        """Replay the stream through the aggregate, diffing its public state at each event."""
        records = await repository.store.read_stream(commitment_id)
        if not records or records[0].stream_type != "commitment":
            raise AggregateNotFound("commitment", commitment_id)
        commitment, entries = replay_history(repository, records)
        await _require_forum(repository, principal, commitment.forum_id)
        return CommitmentHistory(
            commitment_id=commitment_id,
            forum_id=commitment.forum_id,
            version=commitment.version,
            entries=entries,
        )


# Refreshed on every event, so listing them would only repeat the entry's version and time.
UNCHANGING = frozenset({"version", "modified_on"})


def replay_history(
    repository: Repository, records: list[RecordedEvent]
) -> tuple[Commitment, list[HistoryEntry]]:
    """The commitment after its last event, and one entry per event with its changes."""
    mapper = repository.mapper
    aggregate: Any = None
    before: dict[str, Any] = {}
    entries = []
    for record in records:
        event = mapper.to_domain_event(record)
        aggregate = event.mutate(aggregate)
        after = msgspec.to_builtins(CommitmentState.of(aggregate))
        changes = [
            FieldChange(name, before.get(name), value)
            for name, value in after.items()
            if name not in UNCHANGING and before.get(name) != value
        ]
        entries.append(
            HistoryEntry(
                version=record.version,
                position=record.position,
                type=record.type,
                summary=summarise(record.type, vars(event), before, after),
                actor=record.actor,
                on_behalf_of=record.on_behalf_of,
                source=record.source,
                occurred_at=record.occurred_at,
                recorded_at=record.recorded_at,
                changes=changes,
            )
        )
        before = after
    if not isinstance(aggregate, Commitment):
        raise AggregateNotFound("commitment", records[0].stream_id)
    return aggregate, entries


LABELS = {
    "commitment.made": "Made",
    "commitment.accepted": "Accepted",
    "commitment.declined": "Declined",
    "commitment.counter_offered": "Counter-offered",
    "commitment.counter_offer_accepted": "Counter-offer accepted",
    "commitment.withdrawn": "Withdrawn",
    "commitment.progress_reported": "Progress reported",
    "commitment.renegotiated": "Renegotiated",
    "commitment.renegotiation_proposed": "Renegotiation proposed",
    "commitment.renegotiation_agreed": "Renegotiation agreed",
    "commitment.renegotiation_rejected": "Renegotiation rejected",
    "commitment.handover_offered": "Handover offered",
    "commitment.handover_accepted": "Handover accepted",
    "commitment.handover_declined": "Handover declined",
    "commitment.handover_withdrawn": "Handover withdrawn",
    "commitment.released": "Released",
    "commitment.completed": "Completed",
    "commitment.acknowledged": "Completion acknowledged",
    "commitment.disputed": "Completion disputed",
    "commitment.cancelled": "Cancelled",
    "commitment.reopened": "Reopened",
    "commitment.purpose_linked": "Purpose linked",
    "commitment.purpose_unlinked": "Purpose unlinked",
    "commitment.commented": "Comment",
    "commitment.record_corrected": "Record corrected",
}
# Offers of new terms change nothing yet: their terms are in the event, not the state.
OFFERS = frozenset({"commitment.counter_offered", "commitment.renegotiation_proposed"})


def summarise(
    type: str, event: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
) -> str:
    """One sentence: what happened, the terms or progress it moved, and the reason given."""
    parts = []
    if type == "commitment.made":
        parts.append(f"“{after['description']}”, due {_day(after['due_on'])}, {after['status']}")
    elif type in OFFERS:
        offered = msgspec.to_builtins({k: event[k] for k in ("description", "due_on")})
        parts += _terms(before, offered)
    else:
        parts += _terms(before, after)
    if before.get("progress") != after["progress"]:
        what = "" if type == "commitment.progress_reported" else "progress "
        parts.append(f"{what}{_percent(before.get('progress'))} → {_percent(after['progress'])}")
    if before and before["owner_id"] != after["owner_id"]:
        parts.append(f"owner leader:{before['owner_id']} → leader:{after['owner_id']}")
    if "to_id" in event:
        parts.append(f"to leader:{event['to_id']}")
    if "purpose_id" in event:
        parts.append(f"purpose {event['purpose_id']}")
    if event.get("text"):
        parts.append(f"“{event['text']}”")
    text = LABELS.get(type, type)
    if parts:
        text += ": " + ", ".join(parts)
    for why in ("reason", "note"):
        if event.get(why):
            text += f" ({why}: {event[why]})"
    return text


def _terms(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    if not before:
        return []
    parts = []
    if before["due_on"] != after["due_on"]:
        parts.append(f"due date {_day(before['due_on'])} → {_day(after['due_on'])}")
    if before["description"] != after["description"]:
        parts.append(f"description “{before['description']}” → “{after['description']}”")
    return parts


def _day(value: str | date | None) -> str:
    return "none" if value is None else str(value)


def _percent(value: int | None) -> str:
    return "none" if value is None else f"{value}%"
