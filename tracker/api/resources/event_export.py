"""GET /events/export: the log as NDJSON, streamed, for auditors and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from litestar.response import Stream

from tracker.api.dependencies import PrincipalDep
from tracker.api.resources.common import COMMAND_ERRORS
from tracker.api.schemas import time_query
from tracker.application import reads
from tracker.audit.export import MEDIA_TYPE, ExportedEvent, ExportFilter, export
from tracker.domain.time_range import require_within

RULE = "only-auditors-and-admins-export-the-log"
# PostgreSQL text cannot hold NUL: refused as a parameter error rather than failing later.
NO_NUL = r"^[^\x00]*$"

DESCRIPTION = f"""\
Every event of the log (or the part the filters select) in global order, one JSON object per
line: `position`, `transaction_id`, `stream_id`, `stream_type`, `version`, `type`,
`type_version`, `payload`, `occurred_at`, `recorded_at`, `actor`, `on_behalf_of`, `source`,
`correlation_id`, `causation_id`, the chain `hash` (hex), and on the first event of an append
made with an `Idempotency-Key` that key and a digest of the request (`idempotency_key`,
`request_digest` in hex; null elsewhere), so a restored store still recognises a retry. The
export ends at the newest
event readable when it starts. A full export can be loaded into an empty store with
`tracker audit import`, and checked without the server by the standalone verifier against
tree heads saved from `GET /audit/seals`.

**Access**: auditors and admins; anyone else gets 403 (`rule`: `{RULE}`).
"""


# The document leaves out null example values, so the nullable fields every line carries are
# shown set: a line without them would not match its own schema.
LINE = {
    "position": 1077,
    "transaction_id": 48213,
    "stream_id": "3f2b8c1e-7d4a-4e0b-9a61-2c5d8e9f0a17",
    "stream_type": "commitment",
    "version": 3,
    "type": "commitment.progress_reported",
    "type_version": 1,
    "payload": {"percent": 40, "note": "Two of three sites open"},
    "occurred_at": "2026-11-26T10:00:00Z",
    "recorded_at": "2026-11-26T10:00:00.120000Z",
    "actor": "integration:minutes-tool",
    "on_behalf_of": "leader:3f2b8c1e-7d4a-4e0b-9a61-2c5d8e9f0a17",
    "source": "api:integration:minutes-tool",
    "correlation_id": "b7e4a2d9-1c3f-4a8e-9d60-5f2e8c7b1a34",
    "causation_id": "e1d95c3a-7b2f-4c68-8a14-9f3d6b2e0c75",
    "hash": "9c1f0e2b7d8a4c3e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a",
    "idempotency_key": None,
    "request_digest": None,
}
EXPORTED = ResponseSpec(
    data_container=ExportedEvent,
    media_type=MEDIA_TYPE,
    description="One event per line (each line is one such object), in global order",
    examples=[Example(value=LINE)],
    generate_examples=False,
)


class EventExportController(Controller):
    """Auditors take the whole record away from here."""

    path = "/events/export"
    tags = ("audit",)

    @get(
        operation_id="exportEvents",
        summary="Export the log as NDJSON with every envelope field and hash",
        description=DESCRIPTION,
        media_type=MEDIA_TYPE,
        responses={
            200: EXPORTED,
            401: COMMAND_ERRORS[401],
            403: COMMAND_ERRORS[403],
            422: COMMAND_ERRORS[422],
        },
    )
    async def export_events(
        self,
        principal: PrincipalDep,
        state: State,
        stream_id: Annotated[
            UUID | None, QueryParameter(description="Only this stream's events")
        ] = None,
        stream_type: Annotated[
            str | None,
            QueryParameter(
                description="Only streams of this type, e.g. commitment",
                max_length=100,
                pattern=NO_NUL,
            ),
        ] = None,
        types: Annotated[
            list[Annotated[str, msgspec.Meta(max_length=100, pattern=NO_NUL)]] | None,
            QueryParameter(
                name="type", description="Only these event types (repeatable)", max_items=100
            ),
        ] = None,
        since: Annotated[datetime | None, time_query("Only events recorded at or after")] = None,
        until: Annotated[datetime | None, time_query("Only events recorded before")] = None,
    ) -> Stream:
        """Stream the export; nothing is buffered beyond one page of events."""
        reads.require_log_reader(principal, RULE)
        # Checked before the stream starts: once the 200 is sent an error can only cut it short.
        require_within("since", since)
        require_within("until", until)
        only = ExportFilter(
            stream_id=stream_id, stream_type=stream_type, types=types, since=since, until=until
        )
        return Stream(
            export(state.pool, only),
            media_type=MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="events.ndjson"'},
        )
