"""GET /me: who the token speaks for, as the directory knows them."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State

from projections.queries.directory_structs import Me
from projections.queries.me import me
from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.directory import ERRORS, directory
from tracker.api.resources.view_support import MinPosition
from tracker.tokens import expiry

DESCRIPTION = """\
The caller behind the bearer token: its kind (leader, integration, auditor, admin), name, token
id and expiry (null: it never expires). For a leader token, `leader` holds the leader's name,
email, current affiliations with their organisations' names, and the forums they belong to now
with their names and the leader's roles there (`member`; `steward` with each steward role held,
`convenor` and `recorder`). For an integration, `forum_limit` lists the forums its token is
limited to, with their names; null means every forum.

**Access**: every authenticated caller, about themselves.
"""


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
        self, principal: PrincipalDep, state: State, min_position: MinPosition = None
    ) -> Me:
        """The caller, from the directory and the token's own record."""
        expires_at = await expiry(state.pool, principal.token_id)
        async with directory(state, principal, min_position) as views:
            return await me(views.pool, principal, expires_at)
