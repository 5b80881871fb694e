"""The purpose view's structs: the document it answers with, and the commitment lines that the
meeting view lists too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from projections.commitment_fold import OPEN


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
    by_name: str | None
    at: datetime


class PurposeEndorsement(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who endorses the purpose, with their affiliation when they endorsed."""

    leader_id: UUID
    leader_name: str | None
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


class NamedCommitmentLine(CommitmentLine, frozen=True, kw_only=True):
    """A commitment line with its owner's, organisation's and requester's names, and the owner's
    role with that organisation (null for one the views lack)."""

    owner_name: str | None
    owner_organisation_name: str | None
    owner_role: str | None
    requester_name: str | None


class StatusCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many of the purpose's commitments are in one status."""

    status: str
    count: int


class CommitmentLinePage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the purpose's commitments, oldest first; next_cursor (null: no more) is passed
    back as `cursor` for the next page."""

    items: list[NamedCommitmentLine]
    next_cursor: str | None


class PurposeContributor(msgspec.Struct, frozen=True, kw_only=True):
    """A leader who owns commitments citing the purpose, under their organisation on the day
    each was made (or taken over)."""

    leader_id: UUID
    organisation_ids: list[UUID]
    commitments: int
    # Names beside the ids, in the same order (null for one the views lack).
    leader_name: str | None = None
    organisation_names: list[str | None] = []


class ContributingOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation (null: unaffiliated) whose leaders own commitments citing the purpose,
    counted by each owner's affiliation on the day the commitment was made (or taken over)."""

    organisation_id: UUID | None
    leader_ids: list[UUID]
    commitments: int
    # Names beside the ids, in the same order (null for one the views lack).
    organisation_name: str | None = None
    leader_names: list[str | None] = []


class NoLongerPursued(msgspec.Struct, frozen=True, kw_only=True):
    """Commitments citing the purpose that were released, declined, withdrawn or cancelled:
    not contributions, so counted here apart, by leader and by organisation."""

    commitments: int
    leaders: list[PurposeContributor]
    organisations: list[ContributingOrganisation]

    def capped(self, bound: int) -> NoLongerPursued:
        """The same counts, listing at most `bound` leaders and organisations."""
        return NoLongerPursued(
            commitments=self.commitments,
            leaders=self.leaders[:bound],
            organisations=self.organisations[:bound],
        )


class PurposeTotals(msgspec.Struct, frozen=True, kw_only=True):
    """Each list of the view that is listed only in part, counted in full."""

    revisions: int
    endorsements: int
    contributors: int
    organisations: int
    no_longer_pursued_leaders: int
    no_longer_pursued_organisations: int
    agreements_in_force: int


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
    adopted_meeting_title: str | None
    adopted_at: datetime | None


class PurposeView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a partnership looks at for one purpose."""

    purpose_id: UUID
    forum_id: UUID
    forum_name: str | None
    statement: str
    original_statement: str
    status: str
    decision_rule: str | None
    adopted_meeting_id: UUID | None
    adopted_meeting_title: str | None
    adopted_meeting_starts_at: datetime | None
    proposed_by: UUID
    proposed_by_name: str | None
    proposed_at: datetime
    revisions: list[PurposeRevision]
    endorsements: list[PurposeEndorsement]
    totals: PurposeTotals
    status_counts: list[StatusCount]
    contributors: list[PurposeContributor]
    organisations: list[ContributingOrganisation]
    no_longer_pursued: NoLongerPursued
    progress: PurposeProgress
    agreements_in_force: list[AgreementInForce]
    last_activity: datetime
    commitments: CommitmentLinePage


def summaries(rows: list[Any], today: date) -> list[NamedCommitmentLine]:
    """Commitment rows (with line_names) as summaries, with overdue computed for today."""
    return [
        msgspec.convert(
            dict(r)
            | {"overdue": r["status"] in OPEN and r["due_on"] is not None and r["due_on"] < today},
            NamedCommitmentLine,
        )
        for r in rows
    ]
