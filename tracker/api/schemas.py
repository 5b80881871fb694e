"""Request and response shapes shared by every resource; limits on every string and list."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from tracker.application.ports import Saved
from tracker.domain import AffiliationSnapshot

_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it as a field error instead

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_NO_NUL)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=_NO_NUL)]
OptionalText = Annotated[str, msgspec.Meta(max_length=4000, pattern=_NO_NUL)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=_NO_NUL)]
Email = Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\x00:]*$")]
Ids = Annotated[list[UUID], msgspec.Meta(max_length=100)]


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every request body: unknown fields are refused, not ignored."""


class Creation(Command, frozen=True, kw_only=True):
    """Base of creation bodies: an optional id, or an external reference for integrations."""

    id: UUID | None = None
    source_system: ExternalId | None = None
    external_id: ExternalId | None = None


class Reasoned(Command, frozen=True, kw_only=True):
    """A step that needs a reason."""

    reason: Reason


class OptionalReason(Command, frozen=True, kw_only=True):
    """A step that may give a reason or note."""

    reason: OptionalText = ""


class Renaming(Command, frozen=True, kw_only=True):
    """The new name."""

    name: Name


class Adoption(Command, frozen=True, kw_only=True):
    """The decision rule the forum used, and the meeting it decided at, if any."""

    decision_rule: Name
    meeting_id: UUID | None = None


class AffiliationView(msgspec.Struct, frozen=True, kw_only=True):
    """A leader's organisation and title on the day they endorsed or attended, for context only."""

    organisation_id: UUID
    organisation_name: str
    title: str

    @classmethod
    def of(cls, a: AffiliationSnapshot | None) -> AffiliationView | None:
        """The snapshot as the API shows it."""
        if a is None:
            return None
        return cls(
            organisation_id=a.organisation_id, organisation_name=a.organisation_name, title=a.title
        )


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """Where a command's events landed: use position (or checkpoint) to read your writes."""

    stream_id: UUID
    version: int
    position: int
    checkpoint: str
    replayed: bool = False

    @classmethod
    def of(cls, saved: Saved, stream_id: UUID) -> Recorded:
        """The result for one stream of a save."""
        mine = [e for e in saved.events if e.stream_id == stream_id] or list(saved.events)
        last = max(saved.events, key=lambda e: (e.transaction_id, e.position))
        return cls(
            stream_id=stream_id,
            version=max(e.version for e in mine),
            position=max(e.position for e in mine),
            checkpoint=f"{last.transaction_id}:{last.position}",
            replayed=saved.replayed,
        )
