"""GET /events/stream: server-sent events of the log as the caller may read it."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import Stream

from tracker.api.dependencies import PrincipalDep
from tracker.api.methods import HEAD_KEY
from tracker.api.resources.common import COMMAND_ERRORS, READ_ERRORS
from tracker.application.subscriptions import Filter, limited
from tracker.eventstore import Checkpoint
from tracker.eventstore.log import newest
from tracker.feed.sse import MEDIA_TYPE, parse_checkpoint, stream

EventType = Annotated[
    str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[a-z_]+\.[a-z_]+$")
]
CHECKPOINT_TEXT = r"^[ \t]*[0-9]{1,19}:[0-9]{1,19}[ \t]*$"

DESCRIPTION = """\
The events the caller may read through the API, as server-sent events (`text/event-stream`):
every stream of a forum they can see (leaders their forums, integrations the forums their
token is limited to), or the whole log for auditors and admins; `type`, `forum_id`,
`purpose_id` and `leader_id` narrow it as a subscription's filter does.

Each message has `id:` the event's log checkpoint (`<transaction_id>:<position>`), `event:`
its type, and `data:` the event as `GET /events` shows it with `names`, the display names of
the leaders, forum, purposes, meeting and organisations it mentions by id, as named when the
message is sent (the `FeedEvent` schema, as in a webhook's `data`). Reconnecting with that id as
`Last-Event-ID` resumes right after it, with nothing skipped and nothing repeated, also
across a restart of the server. Without it, the stream starts at the log's end (`start=now`)
or its beginning (`start=beginning`). A comment line (`: heartbeat`) comes whenever 15
seconds pass without a message, so proxies keep the connection open. With `follow=false` the
stream ends once it has caught up with the log.
"""
EXAMPLE = (
    ": stream open\n\n"
    "id: 48213:1077\nevent: commitment.accepted\n"
    'data: {"position":1077,"transaction_id":48213,"type":"commitment.accepted","...":"...",'
    '"names":{"<leader id>":"Ben Okafor"}}\n\n'
    ": heartbeat\n\n"
)
EVENTS = ResponseSpec(
    data_container=str,
    media_type=MEDIA_TYPE,
    description="Server-sent events: `id:` the checkpoint, `event:` the type, `data:` the event",
    examples=[Example(value=EXAMPLE)],
    generate_examples=False,
)


class EventStreamController(Controller):
    """The change feed as server-sent events."""

    path = "/events/stream"
    tags = ("feed",)

    @get(
        operation_id="streamEvents",
        summary="Follow the events you may read as server-sent events",
        description=DESCRIPTION,
        media_type=MEDIA_TYPE,
        responses={
            200: EVENTS,
            401: READ_ERRORS[401],
            403: COMMAND_ERRORS[403],
            422: READ_ERRORS[422],
            503: READ_ERRORS[503],
        },
    )
    async def stream_events(
        self,
        request: Request[Any, Any, Any],
        principal: PrincipalDep,
        state: State,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                description="Resume after this message id (a checkpoint this stream sent)",
                max_length=60,
                pattern=CHECKPOINT_TEXT,
            ),
        ] = None,
        start: Annotated[
            Literal["now", "beginning"],
            QueryParameter(description="Where to start without Last-Event-ID"),
        ] = "now",
        follow: Annotated[
            bool, QueryParameter(description="Keep the stream open for new events")
        ] = True,
        types: Annotated[
            list[EventType] | None,
            QueryParameter(name="type", description="Only these event types", max_items=100),
        ] = None,
        forum_ids: Annotated[
            list[UUID] | None,
            QueryParameter(name="forum_id", description="Only these forums", max_items=100),
        ] = None,
        purpose_ids: Annotated[
            list[UUID] | None,
            QueryParameter(name="purpose_id", description="Only these purposes", max_items=100),
        ] = None,
        leader_id: Annotated[
            UUID | None, QueryParameter(description="Only events by, for or about this leader")
        ] = None,
    ) -> Stream:
        """Checked before the stream starts: once the 200 is sent an error can only end it."""
        only = limited(
            principal,
            Filter(
                types=None if not types else tuple(types),
                forum_ids=None if not forum_ids else tuple(forum_ids),
                purpose_ids=None if not purpose_ids else tuple(purpose_ids),
                leader_id=leader_id,
            ),
        )
        if last_event_id is not None:
            after = parse_checkpoint("Last-Event-ID", last_event_id)
        elif start == "beginning":
            after = Checkpoint()
        else:
            after = await newest(state.pool) or Checkpoint()
        # Not following, the stream ends at the newest event committed when it was asked for,
        # once no open transaction holds that event back any more.
        follow = follow and not request.scope.get(HEAD_KEY, False)
        until = None if follow else (await newest(state.pool) or Checkpoint())
        body = stream(state.store, state.repository, principal, only, after, until, state.heartbeat)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return Stream(body, media_type=MEDIA_TYPE, headers=headers)
