"""A commitment's history told for people: its public state after each event, what changed,
and a sentence saying what happened."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from projections.queries.names import OneCommitmentNames
from tracker.api.resources.commitments import CommitmentState
from tracker.api.resources.history_schemas import FieldChange, HistoryEntry
from tracker.application.ports import NotFound
from tracker.domain import Commitment
from tracker.eventstore import RecordedEvent
from tracker.eventstore.repository import Repository

# Refreshed on every event, so listing them would only repeat the entry's version and time;
# and the names the views show, which history tells apart (actor_name) rather than as changes.
UNCHANGING = frozenset({"version", "modified_on", *OneCommitmentNames.__struct_fields__})


CHUNK = 1000  # events read at a time: a long stream is replayed without holding it all


async def replay_page(
    repository: Repository, stream_id: UUID, after_version: int, limit: int
) -> tuple[Commitment, list[HistoryEntry]]:
    """The commitment as replayed so far, and the entries after after_version: up to limit + 1
    of them, so that one more than limit says there is a next page."""
    entries: list[HistoryEntry] = []
    replay = Replay(repository)
    start = 1
    while len(entries) <= limit:
        records = await repository.store.read_stream(stream_id, start + CHUNK - 1, start)
        if start == 1 and (not records or records[0].stream_type != "commitment"):
            raise NotFound("commitment", stream_id)
        for record in records:
            # Only the state the page starts from and the page's own need telling.
            entry = replay.step(record, told=record.version >= after_version)
            if record.version > after_version and entry is not None:
                entries.append(entry)
                if len(entries) > limit:
                    break
        if len(records) < CHUNK:
            break
        start += CHUNK
    if not isinstance(replay.aggregate, Commitment):
        raise NotFound("commitment", stream_id)
    return replay.aggregate, entries


class Replay:
    """A commitment replayed event by event, its public state told after each one asked for."""

    def __init__(self, repository: Repository) -> None:
        self.mapper = repository.mapper
        self.aggregate: Any = None
        self.before: dict[str, Any] = {}

    def step(self, record: RecordedEvent, told: bool) -> HistoryEntry | None:
        """Apply one event; when told, the entry saying what it changed."""
        event = self.mapper.to_domain_event(record)
        self.aggregate = event.mutate(self.aggregate)
        if not told:
            return None
        before, after = self.before, msgspec.to_builtins(CommitmentState.of(self.aggregate))
        self.before = after
        return HistoryEntry(
            version=record.version,
            position=record.position,
            type=record.type,
            summary=summarise(record.type, vars(event), before, after),
            actor=record.actor,
            actor_name=None,
            on_behalf_of=record.on_behalf_of,
            on_behalf_of_name=None,
            reason=_given(vars(event), "reason"),
            note=_given(vars(event), "note"),
            source=record.source,
            occurred_at=record.occurred_at,
            recorded_at=record.recorded_at,
            changes=[
                FieldChange(name, before.get(name), value)
                for name, value in after.items()
                if name not in UNCHANGING and before.get(name) != value
            ],
        )


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


def _given(event: dict[str, Any], key: str) -> str | None:
    """A reason or note the command gave, or None where it gave none (or had none to give)."""
    value = event.get(key)
    return value if isinstance(value, str) and value else None


def named(entries: list[HistoryEntry], leaders: dict[str, str]) -> list[HistoryEntry]:
    """The entries with their actors' display names: a leader's from the views (by the
    `leader:<id>` actor), anyone else's the name after the kind (`integration:<name>`)."""
    return [
        msgspec.structs.replace(
            e,
            actor_name=display_name(e.actor, leaders),
            on_behalf_of_name=None
            if e.on_behalf_of is None
            else display_name(e.on_behalf_of, leaders),
        )
        for e in entries
    ]


def display_name(actor: str, leaders: dict[str, str]) -> str | None:
    """The name to show for an actor string; None for a leader the views do not know."""
    if (leader := _leader_of(actor)) is not None:
        return leaders.get(str(leader))
    kind, _, rest = actor.partition(":")
    return rest or kind


def leader_ids(entries: list[HistoryEntry]) -> set[UUID]:
    """The leaders the entries' actors and principals name."""
    found = {_leader_of(e.actor) for e in entries}
    found |= {_leader_of(e.on_behalf_of) for e in entries if e.on_behalf_of is not None}
    return {leader for leader in found if leader is not None}


def _leader_of(actor: str) -> UUID | None:
    """The leader an actor string names: `leader:<id>`, or a bare id (as on_behalf_of may be)."""
    kind, _, rest = actor.partition(":")
    try:
        return UUID(rest) if kind == "leader" else UUID(actor)
    except ValueError:
        return None


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
