"""Names beside the ids of the purpose view's contributors and organisations."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from projections.queries.purpose_view_structs import (
    ContributingOrganisation,
    NoLongerPursued,
    PurposeContributor,
)

RollUps = tuple[list[PurposeContributor], list[ContributingOrganisation], NoLongerPursued]


def named(roll_ups: RollUps, row: asyncpg.Record) -> RollUps:
    """The roll-ups with names, from the statement's owner_names and organisation_names
    (beside its owners and organisations arrays)."""
    leaders: dict[UUID, str | None] = dict(
        zip(row["owners"] or [], row["owner_names"] or [], strict=True)
    )
    organisations: dict[UUID | None, str | None] = dict(
        zip(row["organisations"] or [], row["organisation_names"] or [], strict=True)
    )
    contributors, contributing, no_longer = roll_ups

    def leader(c: PurposeContributor) -> PurposeContributor:
        names = [organisations.get(o) for o in c.organisation_ids]
        return msgspec.structs.replace(
            c, leader_name=leaders.get(c.leader_id), organisation_names=names
        )

    def organisation(o: ContributingOrganisation) -> ContributingOrganisation:
        names = [leaders.get(x) for x in o.leader_ids]
        return msgspec.structs.replace(
            o, organisation_name=organisations.get(o.organisation_id), leader_names=names
        )

    return (
        [leader(c) for c in contributors],
        [organisation(o) for o in contributing],
        msgspec.structs.replace(
            no_longer,
            leaders=[leader(c) for c in no_longer.leaders],
            organisations=[organisation(o) for o in no_longer.organisations],
        ),
    )
