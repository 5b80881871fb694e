"""GET /projections: checkpoint, lag and state of every projection."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State

from projections.registry import projection_names
from projections.status import ProjectionStatus, statuses
from tracker.api.resources.common import READ_ERRORS


class ProjectionStatusController(Controller):
    """Operators watch the read side here."""

    path = "/projections"
    tags = ("operations",)

    @get(
        operation_id="listProjections",
        summary="Show each projection's version, checkpoint, lag, state and speed",
        description=(
            "One entry per generation. `state` is `running` (a process holds its lease, "
            "`leader`), `retrying` (its leader retries a database error, `retrying_error`), "
            "`stopped`, "
            "`rebuilding` or `rebuild interrupted` (a generation being built beside the live "
            "one), `failed` (stopped at `failed_position`, with `error`; "
            "`tracker projections retry NAME` resumes it) or `retired` (a projection this "
            "release no longer runs; `tracker projections drop NAME` removes it). "
            "`held_back_by` names the session whose open transaction has kept newer events "
            "from the views for longer than `TRACKER_HORIZON_WARNING_SECONDS`."
        ),
        responses={401: READ_ERRORS[401]},
    )
    async def list_projections(self, state: State) -> list[ProjectionStatus]:
        """State: running, stopped, rebuilding, rebuild interrupted, failed, or retired."""
        return await statuses(state.pool, projection_names(), state.horizon_warning)
