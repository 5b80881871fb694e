"""The meeting view: who came, what was decided and committed, and what changed since the
previous meeting."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.meeting_changes import GROUPS, window_changes
from projections.queries.meeting_view_pages import COUNTS, Counts, Cursors, Pages
from projections.queries.names import leader_name
from projections.queries.paging import PAGE
from projections.queries.purpose_view_structs import (
    AffiliationAtTheTime,
    NamedCommitmentLine,
    summaries,
)
from projections.queries.sql import readable
from tracker.application.bounds import ATTENDANCE as ATTENDANCE_BOUND
from tracker.application.clock import Now, today_in

UNAFFILIATED = "unaffiliated"


class MeetingAttendee(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who attended, with their current name and the title they gave on the day."""

    leader_id: UUID
    leader_name: str | None
    title: str | None


class OrganisationGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Attendees from one organisation (as snapshotted at the meeting), or the unaffiliated."""

    organisation_id: UUID | None
    organisation_name: str
    attendees: list[MeetingAttendee]


class Apology(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who sent apologies, with their current name and their affiliation on the day."""

    leader_id: UUID
    leader_name: str | None
    affiliation: AffiliationAtTheTime | None


class DecisionEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A decision the meeting recorded, and the title and id of the decision rule in force it
    was made under (null: under none, or by bootstrap consent, which has no id)."""

    decision_id: UUID
    text: str
    recorded_at: datetime
    decision_rule: str | None = None
    decision_rule_id: UUID | None = None


class MeetingRef(msgspec.Struct, frozen=True, kw_only=True):
    """Another meeting of the forum."""

    meeting_id: UUID
    title: str
    starts_at: datetime


class CarriedChange(msgspec.Struct, frozen=True, kw_only=True):
    """One event on a commitment, who did it (with their name) and the state it left it in."""

    version: int
    type: str
    actor: str
    actor_name: str | None
    occurred_at: datetime
    status: str
    due_on: date | None
    progress: int | None


class CarriedCommitment(NamedCommitmentLine, frozen=True, kw_only=True):
    """A commitment as it is now, with every change it had between the two meetings."""

    changes: list[CarriedChange]
    changes_total: int


class SincePrevious(msgspec.Struct, frozen=True, kw_only=True):
    """What changed between the previous meeting's start and this one's, in the groups a chair
    reads out; each commitment in the first group that fits, by its state when this one began."""

    done: list[CarriedCommitment]
    changed_terms: list[CarriedCommitment]
    handed_over: list[CarriedCommitment]
    no_longer_pursued: list[CarriedCommitment]
    new: list[CarriedCommitment]
    still_open: list[CarriedCommitment]
    overdue: list[CarriedCommitment]


class MeetingView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a meeting's members look at for one meeting."""

    meeting_id: UUID
    forum_id: UUID
    title: str
    starts_at: datetime
    location: str
    status: str
    record_version: int
    attendees: list[OrganisationGroup]
    apologies: list[Apology]
    attendees_total: int
    apologies_total: int
    counts: Counts
    limit: int
    section: str | None
    cursors: Cursors
    decisions: list[DecisionEntry]
    commitments_made: list[NamedCommitmentLine]
    previous_meeting: MeetingRef | None
    since_previous: SincePrevious


MEETING = f"""
SELECT m.meeting_id, m.forum_id, m.title, {readable("m.starts_at")} AS starts_at, m.location,
       m.status, m.record_version, coalesce(f.timezone, 'Europe/London') AS timezone
FROM meetings m LEFT JOIN forums f ON f.forum_id = m.forum_id
WHERE m.meeting_id = $1
"""
# At most ATTENDANCE_BOUND of each presence, by leader id, each row with its presence's total.
ATTENDANCE = f"""
SELECT leader_id, {leader_name("a.leader_id")} AS leader_name, presence, affiliation, total
FROM (
    SELECT leader_id, presence, affiliation,
           row_number() OVER (PARTITION BY presence ORDER BY leader_id) AS n,
           count(*) OVER (PARTITION BY presence) AS total
    FROM meeting_attendance WHERE meeting_id = $1
) a
WHERE n <= {ATTENDANCE_BOUND} ORDER BY leader_id
"""
# The previous meeting is the latest one that was not cancelled, before this one began. Times
# are compared as stored, in PostgreSQL, and only read back through readable().
PREVIOUS = f"""
SELECT p.meeting_id, p.title, {readable("p.starts_at")} AS starts_at FROM meetings p
WHERE p.forum_id = $1 AND p.status <> 'cancelled'
  AND p.starts_at < (SELECT starts_at FROM meetings WHERE meeting_id = $2)
ORDER BY p.starts_at DESC, p.meeting_id DESC LIMIT 1
"""


async def meeting_view(
    pool: asyncpg.Pool,
    meeting_id: UUID,
    now: Now,
    limit: int = PAGE,
    section: str | None = None,
    cursor: str | None = None,
) -> MeetingView | None:
    """The meeting view, or None for a meeting the view does not know; its decisions and
    commitments a page of each (or of the section asked for)."""
    pages = Pages(limit, section, cursor)
    async with pool.acquire() as conn:
        meeting = await conn.fetchrow(MEETING, meeting_id)
        if meeting is None:
            return None
        attendance = await conn.fetch(ATTENDANCE, meeting_id)
        decisions = await pages.decisions(conn, meeting_id)
        made = await pages.commitments(conn, meeting_id)
        previous = await conn.fetchrow(PREVIOUS, meeting["forum_id"], meeting_id)
        before = None if previous is None else previous["meeting_id"]
        counts: dict[str, int] = dict((await conn.fetch(COUNTS, meeting_id))[0])
        in_groups, grouped = await pages.groups(conn, meeting_id, before)
        counts |= in_groups
        ids = [r["commitment_id"] for rows in grouped.values() for r in rows]
        changes = await window_changes(conn, ids, meeting_id, before)
    today = today_in(now, meeting["timezone"])
    return msgspec.convert(
        dict(meeting)
        | {
            "attendees": by_organisation([r for r in attendance if r["presence"] == "attended"]),
            "apologies": [dict(r) for r in attendance if r["presence"] == "apologies"],
            "attendees_total": total(attendance, "attended"),
            "apologies_total": total(attendance, "apologies"),
            "counts": counts,
            "limit": limit,
            "section": pages.section,
            "cursors": pages.cursors,
            "decisions": [dict(r) for r in decisions],
            "commitments_made": summaries(made, today),
            "previous_meeting": None if previous is None else dict(previous),
            "since_previous": {
                g: with_changes(summaries(grouped[g], today), changes) for g in GROUPS
            },
        },
        MeetingView,
    )


def total(attendance: list[Any], presence: str) -> int:
    """How many of the meeting's attendance records have the presence, listed or not."""
    return next((int(r["total"]) for r in attendance if r["presence"] == presence), 0)


def by_organisation(rows: list[Any]) -> list[OrganisationGroup]:
    """Attendees grouped by the organisation in their snapshot; the unaffiliated come last."""
    groups: dict[UUID | None, tuple[str, list[MeetingAttendee]]] = {}
    for r in rows:
        a = r["affiliation"]
        key = None if a is None else UUID(a["organisation_id"])
        name = UNAFFILIATED if a is None else a["organisation_name"]
        attendee = MeetingAttendee(
            leader_id=r["leader_id"],
            leader_name=r["leader_name"],
            title=None if a is None else a["title"],
        )
        groups.setdefault(key, (name, []))[1].append(attendee)
    ordered = sorted(groups.items(), key=lambda g: (g[0] is None, g[1][0], str(g[0])))
    return [
        OrganisationGroup(organisation_id=k, organisation_name=name, attendees=people)
        for k, (name, people) in ordered
    ]


def with_changes(
    commitments: list[NamedCommitmentLine], changes: list[Any]
) -> list[CarriedCommitment]:
    """Each commitment with its changes between the two meetings, oldest first."""
    by_commitment: dict[UUID, list[CarriedChange]] = {c.commitment_id: [] for c in commitments}
    totals: dict[UUID, int] = {}
    for r in changes:
        if r["commitment_id"] in by_commitment:
            by_commitment[r["commitment_id"]].append(msgspec.convert(dict(r), CarriedChange))
            totals[r["commitment_id"]] = int(r["total"])
    return [
        CarriedCommitment(
            **msgspec.structs.asdict(c),
            changes=by_commitment[c.commitment_id],
            changes_total=totals.get(c.commitment_id, 0),
        )
        for c in commitments
    ]
