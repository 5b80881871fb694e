"""Every projection the service runs."""

from __future__ import annotations

from projections.base import Projection
from projections.commitment_view import CommitmentViews
from projections.directory_view import DirectoryView
from projections.governance_view import GovernanceViews


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
