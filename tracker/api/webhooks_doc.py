"""The webhook deliveries in the OpenAPI document: OpenAPI 3.1's `webhooks` section."""

from __future__ import annotations

from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)

ENVELOPE = "EventEnvelope"  # GET /events's event, which the delivery's `data` extends
FEED_EVENT = "FeedEvent"  # the delivery's `data` and each server-sent event's
DESCRIPTION = """\
Each event a subscription selects is POSTed to its `target_url` as a CloudEvents 1.0 JSON
event (structured mode), signed per Standard Webhooks 1.0. Verify `webhook-signature` with
the subscription's secret before trusting the body (docs/integrations.md shows how, with the
`standardwebhooks` library), and reject a `webhook-timestamp` more than 5 minutes from your
clock. Delivery is at least once: the same event always comes with the same `webhook-id`, so
treat a repeat as done. Events of one stream come in order.

Answer 2xx within 10 seconds (`TRACKER_WEBHOOK_TIMEOUT_SECONDS`). Anything else (another
status, a redirect, which is never followed, or no answer) is retried with exponential
backoff and jitter for 24 hours, then the delivery is a dead letter. At most 64 KiB of the
answer is read. Each request carries one event.
"""
HEADERS = {
    "webhook-id": "The message id, the same on every attempt: `msg_<transaction_id>_<position>`",
    "webhook-timestamp": "When this attempt was sent, in seconds since 1970 (UTC)",
    "webhook-signature": (
        "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per valid secret, space-separated "
        "(two during a secret's rotation grace period)"
    ),
}
# Every field set: the document leaves out null example values, and the data's schema
# requires its nullable fields.
EXAMPLE = {
    "specversion": "1.0",
    "id": "msg_48213_1077",
    "source": "https://commitment-tracker.invalid/log",
    "type": "commitment.progress_reported",
    "subject": "3f2b8c1e-7d4a-4e0b-9a61-2c5d8e9f0a17",
    "time": "2026-11-26T10:00:00.120000Z",
    "datacontenttype": "application/json",
    "data": {
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
        "on_behalf_of": "leader:5a7d0c2e-8b1f-4d3a-9e6c-1f4b7a2d9e30",
        "source": "api:integration:minutes-tool",
        "correlation_id": "b7e4a2d9-1c3f-4a8e-9d60-5f2e8c7b1a34",
        "causation_id": "e1d95c3a-7b2f-4c68-8a14-9f3d6b2e0c75",
        "hash": "9c1f0e2b7d8a4c3e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a",
        "names": {"5a7d0c2e-8b1f-4d3a-9e6c-1f4b7a2d9e30": "Amina Yusuf"},
    },
}


def _string(description: str, **extra: object) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description, **extra)  # type: ignore[arg-type]


FEED_EVENT_SCHEMA = Schema(
    description=(
        "The event as GET /events shows it, with `names`: the display names of the leaders, "
        "forum, purposes (their statement), meeting and organisations it mentions, by id, as "
        "the views name them when the message is sent (a later rename shows in later messages "
        "only; a retry carries the names at its own time). Ids the views do not know are left "
        "out."
    ),
    all_of=[
        Reference(ref=f"#/components/schemas/{ENVELOPE}"),
        Schema(
            type=OpenAPIType.OBJECT,
            required=["names"],
            properties={
                "names": Schema(
                    type=OpenAPIType.OBJECT,
                    description="Display names by id (a UUID)",
                    additional_properties=Schema(type=OpenAPIType.STRING),
                )
            },
        ),
    ],
)
CLOUD_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    description="A CloudEvents 1.0 event in JSON whose data is the event as GET /events shows "
    "it, with the names of what it mentions",
    required=["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"],
    properties={
        "specversion": _string("The CloudEvents version", enum=["1.0"]),
        "id": _string("The webhook-id", pattern=r"^msg_[0-9]+_[0-9]+$"),
        "source": _string("This log: https:// and TRACKER_LOG_ORIGIN", format="uri-reference"),
        "type": _string("The event's type, such as commitment.accepted"),
        "subject": _string("The stream's id", format="uuid"),
        "time": _string("When the event was recorded", format="date-time"),
        "datacontenttype": _string("The data's media type", enum=["application/json"]),
        "data": Reference(ref=f"#/components/schemas/{FEED_EVENT}"),
    },
    additional_properties=False,
)


def add_webhooks(document: OpenAPI) -> None:
    """Describe the deliveries a subscription receives."""
    components = document.components or Components()
    schemas = components.schemas if components.schemas is not None else {}
    schemas["CloudEvent"] = CLOUD_EVENT
    schemas[FEED_EVENT] = FEED_EVENT_SCHEMA
    components.schemas = dict(sorted(schemas.items()))
    document.components = components
    parameters = [
        Parameter(
            name=name,
            param_in="header",
            required=True,
            description=description,
            schema=Schema(type=OpenAPIType.STRING),
        )
        for name, description in HEADERS.items()
    ]
    operation = Operation(
        operation_id="deliveredEvent",
        summary="An event delivered to a subscription's target URL",
        description=DESCRIPTION,
        tags=["feed"],
        parameters=parameters,  # type: ignore[arg-type]
        request_body=RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(
                    schema=Reference(ref="#/components/schemas/CloudEvent"),
                    examples={"event": Example(value=EXAMPLE)},
                )
            },
        ),
        responses={
            "200": OpenAPIResponse(description="Received: any 2xx will do"),
            "400": OpenAPIResponse(
                description="Not accepted (a bad signature, say): any status but 2xx is retried"
            ),
        },
        security=[],
    )
    document.webhooks = {"deliveredEvent": PathItem(post=operation)}
