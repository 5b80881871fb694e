"""GET /me: who the token speaks for, as the directory knows them."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from projections.queries.directory_now import forums_now
from projections.queries.directory_structs import Me
from projections.queries.me import me
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.directory import ERRORS, VIEWS, directory
from tracker.api.resources.view_support import MinPosition, consistent
from tracker.api.time_travel import ViewsDep
from tracker.application.subscriptions import owner
from tracker.feed.store import paused_count
from tracker.tokens import expiry

DESCRIPTION = """\
The caller behind the bearer token: its kind (leader, integration, auditor, admin), name, token
id and expiry (null: it never expires). For a leader token, `leader` holds the leader's name,
email, current affiliations with their organisations' names, and the forums they belong to now
with their names and the leader's roles there (`member`; `steward` with each steward role held,
`convenor` and `recorder`). For an integration, `forum_limit` lists the forums its token is
limited to, with their names; null means every forum. With `as_of`, the directory's part
(`leader`, the forums' names) is as it stood then, and a leader's forums are only those they
belong to now that they belonged to then; `leader` is null if the leader was not registered
yet. The token's part and `subscriptions` are always as they are now. `subscriptions` counts
the caller's webhook subscriptions and how many are paused (`paused_failing`: paused because
their target kept failing; `GET /subscriptions` says which).

**Access**: every authenticated caller, about themselves.
"""


class Subscriptions(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's webhook subscriptions: how many, how many paused, and by failure."""

    total: int
    paused: int
    paused_failing: int


class MeAndFeed(Me, frozen=True, kw_only=True):
    """The caller, and the state of their subscriptions."""

    subscriptions: Subscriptions


class MeController(Controller):
    """The caller's own token and identity."""

    path = "/me"
    tags = ("directory",)

    @get(
        operation_id="getMe",
        summary="Who the token speaks for",
        description=DESCRIPTION,
        responses=ERRORS,
    )
    async def get_me(
        self,
        principal: PrincipalDep,
        state: State,
        views: ViewsDep,
        min_position: MinPosition = None,
    ) -> MeAndFeed:
        """The caller, from the directory (now or as of a cut) and the token's own record."""
        expires_at = await expiry(state.pool, principal.token_id)
        # A past read shows only forums the leader may see now: decided before the replay.
        mine = None
        if views.past and principal.leader_id is not None:
            await consistent(state.pool, min_position, VIEWS)
            mine = await forums_now(state.pool, principal.leader_id)
        async with directory(state, principal, min_position, views) as read:
            found = await me(read.pool, principal, expires_at, mine)
        total, paused, failing = await paused_count(state.pool, owner(principal))
        counts = Subscriptions(total=total, paused=paused, paused_failing=failing)
        return MeAndFeed(**msgspec.structs.asdict(found), subscriptions=counts)
