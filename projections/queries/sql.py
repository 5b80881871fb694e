"""SQL pieces the view queries share: JSON-ready columns, the caller's forums, bound arguments."""

from __future__ import annotations

from uuid import UUID

import msgspec

from projections.commitment_fold import OPEN

DEFAULT_TIMEZONE = "Europe/London"
# The open statuses as an SQL list, for IN (...).
OPEN_SQL = ", ".join(f"'{status}'" for status in OPEN)


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The forums a caller may see: a member's forums, a list of forums, or (both None) all."""

    member: UUID | None = None
    forum_ids: tuple[UUID, ...] | None = None


def utc(column: str) -> str:
    """A timestamptz column as RFC 3339 text in UTC ("...Z"), whatever the session time zone."""
    # to_json renders ISO 8601 whatever DateStyle says; cheaper than to_char by a factor of 3.
    return f"(to_json({column} AT TIME ZONE 'UTC') #>> '{{}}') || 'Z'"


def readable(column: str) -> str:
    """A timestamptz column held to the years the driver can read back (UTC 0001 to 9999)."""
    # PostgreSQL stores times far beyond Python's datetime, and asyncpg fails on one outside
    # it; a time stored before the API bounded its input is shown at the nearest end instead.
    return f"least(greatest({column}, {_FIRST}), {_LAST})"


_FIRST = "'0001-01-01 00:00:00+00'::timestamptz"
_LAST = "'9999-12-31 23:59:59.999999+00'::timestamptz"


class Args:
    """Positional query arguments, handing out $n placeholders as values are added."""

    def __init__(self, *values: object) -> None:
        self.values: list[object] = list(values)

    def add(self, value: object) -> str:
        """Bind a value; return its placeholder."""
        self.values.append(value)
        return f"${len(self.values)}"


def scope_forums(scope: Scope, args: Args) -> str | None:
    """The caller's forums as an SQL uuid[] expression, or None when all are visible."""
    if scope.member is not None:
        # Looked up once (an InitPlan on the members index), not for every row compared.
        return (
            "ARRAY(SELECT forum_id FROM forums "
            f"WHERE members @> (SELECT jsonb_build_array({args.add(str(scope.member))}::text)))"
        )
    if scope.forum_ids is not None:
        return f"{args.add(list(scope.forum_ids))}::uuid[]"
    return None


def scope_predicate(scope: Scope, args: Args, forum_column: str = "c.forum_id") -> str | None:
    """policy.sees_forum as a predicate on a forum id column, or None when all are visible."""
    # The caller's forums are compared per row: cheaper than testing forums.members for every
    # row.
    forums = scope_forums(scope, args)
    return None if forums is None else f"{forum_column} = ANY({forums})"
