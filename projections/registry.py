"""Every projection the service runs."""

from __future__ import annotations

from collections.abc import Awaitable

import asyncpg

from projections.base import Projection
from projections.commitment_view import CommitmentViews
from projections.directory_view import DirectoryView
from projections.governance_view import GovernanceViews
from projections.runner import ProjectionRunner
from tracker.connections import PROJECTIONS, connect
from tracker.eventstore import EventStore
from tracker.settings import Settings


def all_projections() -> list[Projection]:
    """Fresh instances of every projection, in the order they are run."""
    return [CommitmentViews(), GovernanceViews(), DirectoryView()]


def projection_names() -> set[str]:
    """The versioned names of every projection the service runs."""
    return {projection.name for projection in all_projections()}


def by_name(name: str) -> Projection:
    """One projection by its versioned name (or its name without the version)."""
    for projection in all_projections():
        if name in (projection.name, projection.name.rsplit("_v", 1)[0]):
            return projection
    raise KeyError(name)


def projection_runner(settings: Settings, store: EventStore, url: str) -> ProjectionRunner:
    """A runner of every projection, with its lease and connections as configured."""

    def lease_or_build_connection() -> Awaitable[asyncpg.Connection]:
        # No statement limit: the same connections build new projections from the whole log.
        return connect(url, PROJECTIONS, settings, statement_timeout=0)

    return ProjectionRunner(
        store,
        all_projections(),
        lease_or_build_connection,
        takeover_seconds=settings.lease_renew_seconds,
        lease_seconds=settings.lease_seconds,
        horizon_warning_seconds=settings.horizon_warning_seconds,
    )
