"""Arrange the subscription operations: each on a subscription the owner leader made."""

from __future__ import annotations

from tests.access.arrange import Call, arranges, get, post
from tests.access.world import World

# Nothing listens there, and the matrix's app runs no deliveries.
TARGET = "http://127.0.0.1:9/hook"


async def subscription(w: World) -> str:
    """The owner leader's subscription to forum A."""
    body = {"target_url": TARGET, "forum_ids": [w.forum()]}
    made = await w.post("/subscriptions", body, "owner")
    return str(made["subscription"]["id"])


async def path(w: World, tail: str = "") -> str:
    return f"/subscriptions/{await subscription(w)}{tail}"


@arranges("streamEvents")
async def _stream(w: World) -> Call:
    # To its end and no further: forum A's events name forum A, which outsiders never see.
    return get("/events/stream", w.forum(), follow="false", start="beginning")


@arranges("createSubscription")
async def _create(w: World) -> Call:
    return post("/subscriptions", {"target_url": TARGET}, None)


@arranges("listSubscriptions")
async def _list(w: World) -> Call:
    await subscription(w)
    return get("/subscriptions")


@arranges("getSubscription")
async def _get(w: World) -> Call:
    return get(await path(w))


@arranges("pauseSubscription")
async def _pause(w: World) -> Call:
    return post(await path(w, "/pause"), None, None)


@arranges("resumeSubscription")
async def _resume(w: World) -> Call:
    return post(await path(w, "/resume"), None, None)


@arranges("rotateSubscriptionSecret")
async def _rotate(w: World) -> Call:
    return post(await path(w, "/secret-rotation"), None, None)


@arranges("deleteSubscription")
async def _delete(w: World) -> Call:
    return Call("DELETE", await path(w))


@arranges("listSubscriptionDeliveries")
async def _deliveries(w: World) -> Call:
    return get(await path(w, "/deliveries"))


@arranges("listDeadLetters")
async def _dead_letters(w: World) -> Call:
    return get(await path(w, "/dead-letters"))


@arranges("redeliverDeadLetters")
async def _redeliver(w: World) -> Call:
    subscription_id = await subscription(w)
    # A dead letter of forum A's own stream, as the deliverer leaves one after a day of failures.
    await w.pool.execute(
        """
        INSERT INTO subscription_queue (subscription_id, transaction_id, position, stream_id,
            attempts, first_failed_at, next_attempt_at, dead_at)
        SELECT $1, transaction_id, position, stream_id, 12, $2, $2, $2 FROM events
        WHERE stream_id = $3 ORDER BY position LIMIT 1
        """,
        subscription_id,
        w.clock(),
        w.forums["a"].id,
    )
    return post(f"/subscriptions/{subscription_id}/redeliveries", {}, None)
