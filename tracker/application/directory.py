"""Who sees what in the directory: which forums and members a caller's lists show, and whose
emails; the same rules as the single reads, applied to a list at once."""

from __future__ import annotations

from uuid import UUID

import msgspec

from tracker.application import reads
from tracker.application.external import reference_id
from tracker.application.principal import ADMIN, AUDITOR, Principal
from tracker.domain import InvalidValue


class Sight(msgspec.Struct, frozen=True, kw_only=True):
    """What a directory list shows one caller.

    `member`/`forum_ids` are the forums it shows (both None: all); a member also sees
    themselves. Emails are shown to all of them with `all_emails`, else only, to `steward`, their
    own and those of members of the forums they steward, else to no one. A list as of a past
    cut is seen as the caller sees the directory now: `leader_ids` and `email_ids`, when set,
    are the leaders it shows and those whose emails, decided from today's memberships.
    """

    member: UUID | None = None
    forum_ids: tuple[UUID, ...] | None = None
    all_emails: bool = False
    steward: UUID | None = None
    leader_ids: tuple[UUID, ...] | None = None
    email_ids: tuple[UUID, ...] | None = None


def sight(principal: Principal) -> Sight:
    """The forums, members and emails a caller's directory lists show."""
    visible = reads.visible(principal)
    return Sight(
        member=visible.member,
        forum_ids=visible.forum_ids,
        all_emails=principal.kind in (AUDITOR, ADMIN),
        steward=reads.viewing_leader(principal),
    )


def looked_up(source_system: str | None, external_id: str | None) -> UUID | None:
    """The id created under an external reference, to look up; both parts or neither (422)."""
    if (source_system is None) != (external_id is None):
        field = "external_id" if external_id is None else "source_system"
        raise InvalidValue(field, "source_system and external_id come together")
    if source_system is None or external_id is None:
        return None
    return reference_id(source_system, external_id)
