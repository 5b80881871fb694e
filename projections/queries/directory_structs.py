"""What the directory lists and GET /me answer with, and what a caller may ask of them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

ORGANISATION_STATUSES = ("active", "archived")


class DirectoryOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation, and the name of the one that took over its work, if any."""

    organisation_id: UUID
    name: str
    kind: str
    status: str
    successor_id: UUID | None
    successor_name: str | None
    registered_at: datetime


class AffiliationItem(msgspec.Struct, frozen=True, kw_only=True):
    """A role with an organisation that has not ended, with the organisation's current name."""

    organisation_id: UUID
    organisation_name: str | None
    title: str
    from_on: date


class DirectoryLeader(msgspec.Struct, frozen=True, kw_only=True):
    """A leader, with their latest current affiliations, oldest first, and how many they hold."""

    leader_id: UUID
    name: str
    email: str | None
    status: str
    registered_at: datetime
    affiliations: list[AffiliationItem]
    affiliations_total: int


class DirectoryForum(msgspec.Struct, frozen=True, kw_only=True):
    """A forum, and how many members it has now."""

    forum_id: UUID
    name: str
    timezone: str
    convened_at: datetime
    member_count: int


class OrganisationPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of organisations; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[DirectoryOrganisation]
    next_cursor: str | None


class LeaderPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of leaders; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[DirectoryLeader]
    next_cursor: str | None


class ForumPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of forums; pass next_cursor back as `cursor` for the next (null: no more)."""

    items: list[DirectoryForum]
    next_cursor: str | None


class OrganisationFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller asked for; None means no filter."""

    organisation_id: UUID | None = None
    name: str | None = None
    status: str | None = None


class LeaderFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller asked for; None means no filter."""

    leader_id: UUID | None = None
    organisation_id: UUID | None = None
    forum_id: UUID | None = None
    name: str | None = None
    email: str | None = None


class ForumFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the caller asked for; None means no filter."""

    forum_id: UUID | None = None
    name: str | None = None


class MyForum(msgspec.Struct, frozen=True, kw_only=True):
    """A forum the leader belongs to, and their roles there (member, steward, convenor...)."""

    forum_id: UUID
    name: str | None
    roles: list[str]


class MyLeader(msgspec.Struct, frozen=True, kw_only=True):
    """The leader a token acts as, with their current affiliations (the latest, with their
    count) and the forums they belong to (the first by name, with their count)."""

    leader_id: UUID
    name: str
    email: str | None
    status: str
    affiliations: list[AffiliationItem]
    affiliations_total: int
    forums: list[MyForum]
    forums_total: int


class ForumName(msgspec.Struct, frozen=True, kw_only=True):
    """A forum's id and current name (null: no such forum is known)."""

    forum_id: UUID
    name: str | None


class Me(msgspec.Struct, frozen=True, kw_only=True):
    """The caller behind the token.

    `leader` is set for a leader token (null until the directory has the leader);
    `forum_limit` lists the forums an integration token is limited to, null when it is not.
    """

    kind: str
    name: str
    token_id: UUID
    expires_at: datetime | None
    leader_id: UUID | None
    leader: MyLeader | None
    forum_limit: list[ForumName] | None
