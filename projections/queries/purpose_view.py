"""The purpose view: a purpose, who endorses it, the commitments citing it and how they go."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from projections.commitment_fold import FINISHED, OPEN
from tracker.application.clock import Now, today_in

# Lifecycle order, so groups read the same way every time.
STATUSES = (*OPEN, *FINISHED)
# Owners who never promised (still proposed, declined, withdrawn) do not count as contributing.
PROMISED = ("active", "completed", "acknowledged", "released", "cancelled")


class AffiliationAtTheTime(msgspec.Struct, frozen=True, kw_only=True):
    """A leader's organisation and title as they stood at the time, for context only."""

    organisation_id: UUID
    organisation_name: str
    title: str


class PurposeRevision(msgspec.Struct, frozen=True, kw_only=True):
    """One revision of the statement: the new statement, why, by whom and when."""

    statement: str
    reason: str
    by: UUID
    at: datetime


class PurposeEndorsement(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who endorses the purpose, with their affiliation when they endorsed."""

    leader_id: UUID
    affiliation: AffiliationAtTheTime | None
    endorsed_at: datetime


class CommitmentLine(msgspec.Struct, frozen=True, kw_only=True):
    """A commitment as a view lists it; overdue is computed at query time."""

    commitment_id: UUID
    description: str
    status: str
    owner_id: UUID
    owner_organisation_id: UUID | None
    requester_id: UUID | None
    due_on: date | None
    progress: int | None
    meeting_id: UUID | None
    updated_at: datetime
    overdue: bool = False


class PurposeStatusGroup(msgspec.Struct, frozen=True, kw_only=True):
    """The commitments in one status."""

    status: str
    count: int
    commitments: list[CommitmentLine]


class PurposeContributor(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who owns commitments citing the purpose, under the organisations recorded."""

    leader_id: UUID
    organisation_ids: list[UUID]
    commitments: int


class ContributingOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation (null: unaffiliated) whose leaders own commitments citing the purpose."""

    organisation_id: UUID | None
    leader_ids: list[UUID]
    commitments: int


class PurposeProgress(msgspec.Struct, frozen=True, kw_only=True):
    """Roll-up of the commitments; mean_progress is over active ones that reported any."""

    total: int
    open: int
    finished: int
    completed: int
    released: int
    overdue: int
    reporting: int
    mean_progress: float | None


class AgreementInForce(msgspec.Struct, frozen=True, kw_only=True):
    """An adopted agreement of the purpose, or of its forum."""

    agreement_id: UUID
    scope: str
    kind: str
    title: str
    text: str
    decision_rule: str | None
    adopted_meeting_id: UUID | None
    adopted_at: datetime | None


class PurposeView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a partnership looks at for one purpose."""

    purpose_id: UUID
    forum_id: UUID
    statement: str
    original_statement: str
    status: str
    decision_rule: str | None
    adopted_meeting_id: UUID | None
    proposed_by: UUID
    proposed_at: datetime
    revisions: list[PurposeRevision]
    endorsements: list[PurposeEndorsement]
    commitments_by_status: list[PurposeStatusGroup]
    contributors: list[PurposeContributor]
    organisations: list[ContributingOrganisation]
    progress: PurposeProgress
    agreements_in_force: list[AgreementInForce]
    last_activity: datetime


PURPOSE = """
SELECT p.*, coalesce(f.timezone, 'Europe/London') AS timezone
FROM purposes p LEFT JOIN forums f ON f.forum_id = p.forum_id
WHERE p.purpose_id = $1
"""
ENDORSEMENTS = """
SELECT leader_id, affiliation, endorsed_at FROM purpose_endorsements
WHERE purpose_id = $1 ORDER BY endorsed_at, leader_id
"""
# purpose_ids holds ids as JSON strings; @> uses the commitments_purposes GIN index.
COMMITMENTS = """
SELECT commitment_id, description, status, owner_id, owner_organisation_id, requester_id,
       due_on, progress, meeting_id, updated_at
FROM commitments WHERE purpose_ids @> jsonb_build_array($1::text)
ORDER BY created_at, commitment_id
"""
AGREEMENTS_IN_FORCE = """
SELECT agreement_id, scope, kind, title, text, decision_rule, adopted_meeting_id, adopted_at
FROM agreements
WHERE status = 'adopted'
  AND ((scope = 'purpose' AND scope_id = $1) OR (scope = 'forum' AND scope_id = $2))
ORDER BY adopted_at, agreement_id
"""


async def purpose_view(pool: asyncpg.Pool, purpose_id: UUID, now: Now) -> PurposeView | None:
    """The purpose view, or None for a purpose the view does not know."""
    async with pool.acquire() as conn:
        purpose = await conn.fetchrow(PURPOSE, purpose_id)
        if purpose is None:
            return None
        endorsements = await conn.fetch(ENDORSEMENTS, purpose_id)
        rows = await conn.fetch(COMMITMENTS, str(purpose_id))
        agreements = await conn.fetch(AGREEMENTS_IN_FORCE, purpose_id, purpose["forum_id"])
    commitments = summaries(rows, today_in(now, purpose["timezone"]))
    activity = max([purpose["last_activity"], *(c.updated_at for c in commitments)])
    return msgspec.convert(
        dict(purpose)
        | {
            "endorsements": [dict(r) for r in endorsements],
            "commitments_by_status": by_status(commitments),
            "contributors": contributors(commitments),
            "organisations": organisations(commitments),
            "progress": progress(commitments),
            "agreements_in_force": [dict(r) for r in agreements],
            "last_activity": activity,
        },
        PurposeView,
    )


def summaries(rows: list[Any], today: date) -> list[CommitmentLine]:
    """Commitment rows as summaries, with overdue computed for today."""
    return [
        msgspec.convert(
            dict(r)
            | {"overdue": r["status"] in OPEN and r["due_on"] is not None and r["due_on"] < today},
            CommitmentLine,
        )
        for r in rows
    ]


def by_status(commitments: list[CommitmentLine]) -> list[PurposeStatusGroup]:
    """The commitments grouped by status, in lifecycle order, leaving out empty groups."""
    groups: dict[str, list[CommitmentLine]] = defaultdict(list)
    for c in commitments:
        groups[c.status].append(c)
    return [
        PurposeStatusGroup(status=s, count=len(groups[s]), commitments=groups[s])
        for s in STATUSES
        if s in groups
    ]


def contributors(commitments: list[CommitmentLine]) -> list[PurposeContributor]:
    """Owners who promised, most commitments first."""
    counts: dict[UUID, int] = defaultdict(int)
    orgs: dict[UUID, dict[UUID, None]] = defaultdict(dict)
    for c in commitments:
        if c.status in PROMISED:
            counts[c.owner_id] += 1
            if c.owner_organisation_id is not None:
                orgs[c.owner_id][c.owner_organisation_id] = None
    return [
        PurposeContributor(leader_id=k, organisation_ids=list(orgs[k]), commitments=n)
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    ]


def organisations(commitments: list[CommitmentLine]) -> list[ContributingOrganisation]:
    """Organisations of owners who promised (as recorded on each commitment), most first."""
    counts: dict[UUID | None, int] = defaultdict(int)
    leaders: dict[UUID | None, dict[UUID, None]] = defaultdict(dict)
    for c in commitments:
        if c.status in PROMISED:
            counts[c.owner_organisation_id] += 1
            leaders[c.owner_organisation_id][c.owner_id] = None
    return [
        ContributingOrganisation(organisation_id=k, leader_ids=list(leaders[k]), commitments=n)
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    ]


def progress(commitments: list[CommitmentLine]) -> PurposeProgress:
    """Counts by outcome, and the mean progress of active commitments that reported."""
    reported = [c.progress for c in commitments if c.status == "active" and c.progress is not None]
    statuses = [c.status for c in commitments]
    return PurposeProgress(
        total=len(commitments),
        open=sum(s in OPEN for s in statuses),
        finished=sum(s not in OPEN for s in statuses),
        completed=sum(s in ("completed", "acknowledged") for s in statuses),
        released=statuses.count("released"),
        overdue=sum(c.overdue for c in commitments),
        reporting=len(reported),
        mean_progress=round(sum(reported) / len(reported), 1) if reported else None,
    )
