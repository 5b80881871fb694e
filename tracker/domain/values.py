"""Value objects shared by several aggregates' events."""

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class AffiliationSnapshot:
    """A leader's organisation and title as they stood when an event happened."""

    organisation_id: UUID
    organisation_name: str
    title: str
