"""Subscriptions to signed webhooks: create, read, pause, resume, rotate, delete, redeliver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from tracker.api.dependencies import Call, PrincipalDep
from tracker.api.resources.common import COMMAND_ERRORS, CREATE_ERRORS, READ_ERRORS
from tracker.api.resources.subscription_schemas import (
    CreatedSubscription,
    DeadLetter,
    DeadLetters,
    DeliveryAttempt,
    DeliveryLog,
    NewSecret,
    NewSubscription,
    Redelivered,
    Redelivery,
    SubscriptionState,
)
from tracker.application.errors import IdempotencyKeyReused
from tracker.application.subscriptions import owner
from tracker.feed import manage, store
from tracker.feed.store import Reply, Subscription

PATH = "/subscriptions"
ONE = "/{subscription_id:uuid}"
READS = READ_ERRORS
CHANGES = {k: v for k, v in COMMAND_ERRORS.items() if k != 409}
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
LIMIT = f"At most this many (1-{MAX_LIMIT})"

ACCESS = """
**Access**: every authenticated caller, for their own subscriptions (a leader's are theirs
whichever of their tokens made them; another caller's belong to the token). Admins see and
manage every subscription; to anyone else another's subscription is an unknown id (404)."""
CREATE_DESCRIPTION = f"""\
Subscribe a URL to the events its creator may read through the API: every stream of a forum
they can see (leaders their forums; integrations the forums their token is limited to, which
the subscription keeps), or the whole log for auditors and admins. `types`, `forum_ids`,
`purpose_ids` and `leader_id` narrow it further (a purpose's own events and those of its
commitments and agreements; events by or for a leader, and of commitments they are party to).
`start` is `now` (events appended from now on) or `beginning` (the whole readable log).

Each event is POSTed as a CloudEvents 1.0 JSON body signed per Standard Webhooks 1.0
(`webhook-id`, `webhook-timestamp`, `webhook-signature`): see the `deliveredEvent` webhook and
docs/integrations.md. The answer carries the signing `secret` (`whsec_...`), shown only here.

The target must be an `http` or `https` URL, not this service, nor a link-local, metadata or
(unless the server sets `TRACKER_WEBHOOK_ALLOW_PRIVATE`) private or loopback address; names
are checked again on every delivery. An integration limited to some forums may name only
those (403 `integrations-subscribe-only-to-their-forums`).
{ACCESS}
"""


def _sender(call: Any) -> str:
    return owner(call.principal)


async def once(
    state: State,
    call: Any,
    status: int,
    answer: Callable[[], Awaitable[tuple[msgspec.Struct, dict[str, str]]]],
) -> Response[Any]:
    """The answer, or with the same Idempotency-Key the first answer, replayed."""
    key = call.idempotency_key
    if key is not None:
        first = await store.reply(state.pool, _sender(call), key)
        if first is not None:
            if first.fingerprint != call.fingerprint:
                raise IdempotencyKeyReused(key)
            headers = {"Idempotent-Replayed": "true"}
            if first.location:
                headers["Location"] = first.location
            return Response(
                first.body, status_code=first.status, media_type="application/json", headers=headers
            )
    content, headers = await answer()
    encoded = msgspec.json.encode(content)
    if key is not None:
        location = headers.get("Location")
        reply = Reply(call.fingerprint, status, encoded, location)
        await store.remember(state.pool, _sender(call), key, reply)
    return Response(encoded, status_code=status, media_type="application/json", headers=headers)


async def _view(state: State, s: Subscription) -> SubscriptionState:
    return SubscriptionState.of(s, await store.queue_counts(state.pool, s.id), state.now())


def _policy(state: State) -> manage.Policy:
    policy: manage.Policy = state.feed_policy
    return policy


class SubscriptionController(Controller):
    """Webhook subscriptions, each its owner's."""

    path = PATH
    tags = ("feed",)

    @post(
        operation_id="createSubscription",
        summary="Subscribe a URL to signed webhook deliveries of the events you may read",
        description=CREATE_DESCRIPTION,
        responses=CREATE_ERRORS,
        status_code=201,
    )
    async def create(
        self, data: JSONBody[NewSubscription], call: Call, state: State
    ) -> Response[CreatedSubscription]:
        """201 with the secret, shown this once."""

        async def made() -> tuple[msgspec.Struct, dict[str, str]]:
            s = await manage.create(
                state.pool,
                _policy(state),
                call.principal,
                data.target_url,
                data.filter(),
                data.description,
                data.start == "beginning",
                state.now(),
            )
            body = CreatedSubscription(subscription=await _view(state, s), secret=s.secret)
            return body, {"Location": f"{PATH}/{s.id}"}

        return await once(state, call, 201, made)

    @get(
        operation_id="listSubscriptions",
        summary="List your subscriptions (an admin: everyone's)",
        description="Oldest first, each with its status, cursor and retry queue." + ACCESS,
        responses={401: READS[401]},
    )
    async def list_subscriptions(
        self, principal: PrincipalDep, state: State
    ) -> list[SubscriptionState]:
        """The caller's subscriptions."""
        found = await manage.listed(state.pool, principal)
        return [await _view(state, s) for s in found]

    @get(
        ONE,
        operation_id="getSubscription",
        summary="Get a subscription's status, cursor and retry queue",
        description=(
            "`status` is `active` or `paused`; `paused_reason` says why: `by request`, or "
            "`failing` (its target answered no 2xx while a delivery was retried for "
            "`TRACKER_WEBHOOK_RETRY_HOURS`). The ETag is its version." + ACCESS
        ),
        responses=READS,
    )
    async def get_subscription(
        self, subscription_id: FromPath[UUID], principal: PrincipalDep, state: State
    ) -> Response[SubscriptionState]:
        """404 for another's subscription."""
        s = await manage.mine(state.pool, principal, subscription_id)
        return Response(await _view(state, s), headers={"ETag": f'"{s.version}"'})

    @post(
        ONE + "/pause",
        operation_id="pauseSubscription",
        summary="Pause deliveries; events keep their place and are sent on resuming",
        description="Nothing is lost: on resuming, deliveries continue from the cursor." + ACCESS,
        responses=CHANGES,
        status_code=200,
    )
    async def pause(
        self, subscription_id: FromPath[UUID], call: Call, state: State
    ) -> Response[SubscriptionState]:
        """Paused by request."""
        return await self._status(state, call, subscription_id, store.PAUSED)

    @post(
        ONE + "/resume",
        operation_id="resumeSubscription",
        summary="Resume deliveries from the cursor, retries included",
        description="Also resumes a subscription paused because its target kept failing." + ACCESS,
        responses=CHANGES,
        status_code=200,
    )
    async def resume(
        self, subscription_id: FromPath[UUID], call: Call, state: State
    ) -> Response[SubscriptionState]:
        """Active again."""
        return await self._status(state, call, subscription_id, store.ACTIVE)

    async def _status(
        self, state: State, call: Any, subscription_id: UUID, status: str
    ) -> Response[SubscriptionState]:
        async def changed() -> tuple[msgspec.Struct, dict[str, str]]:
            s = await manage.set_status(
                state.pool, call.principal, subscription_id, call.if_match, status
            )
            return await _view(state, s), {"ETag": f'"{s.version}"'}

        return await once(state, call, 200, changed)

    @post(
        ONE + "/secret-rotation",
        operation_id="rotateSubscriptionSecret",
        summary="Rotate the signing secret; the old one still signs during a grace period",
        description=(
            "The new secret is shown only in this answer. Until `previous_secret_valid_until` "
            "(`TRACKER_WEBHOOK_SECRET_GRACE_HOURS` later, 24 by default) each delivery carries "
            "a signature by each secret in `webhook-signature`, so receivers can switch "
            "without missing one." + ACCESS
        ),
        responses=CHANGES,
        status_code=200,
    )
    async def rotate(
        self, subscription_id: FromPath[UUID], call: Call, state: State
    ) -> Response[NewSecret]:
        """A new whsec_ secret."""

        async def rotated() -> tuple[msgspec.Struct, dict[str, str]]:
            s = await manage.rotate(
                state.pool,
                _policy(state),
                call.principal,
                subscription_id,
                call.if_match,
                state.now(),
            )
            assert s.previous_until is not None
            body = NewSecret(
                subscription_id=s.id,
                secret=s.secret,
                previous_secret_valid_until=s.previous_until,
                version=s.version,
            )
            return body, {"ETag": f'"{s.version}"'}

        return await once(state, call, 200, rotated)

    @delete(
        ONE,
        operation_id="deleteSubscription",
        summary="Delete a subscription, its retry queue and its delivery log",
        description="Deliveries stop at once; nothing of it is kept." + ACCESS,
        responses=READS,
        status_code=204,
    )
    async def remove(
        self, subscription_id: FromPath[UUID], principal: PrincipalDep, state: State
    ) -> None:
        """204; a second delete is a 404."""
        await manage.delete(state.pool, principal, subscription_id)

    @get(
        ONE + "/deliveries",
        operation_id="listSubscriptionDeliveries",
        summary="Read a subscription's delivery log: attempts, statuses, durations, next retry",
        description=(
            f"The newest attempts first, at most `limit` (default {DEFAULT_LIMIT}, at most "
            f"{MAX_LIMIT}); pass `next_before` back as `before` for older ones. The log keeps "
            "each subscription's newest attempts: 10,000 unless the service is configured "
            "otherwise." + ACCESS
        ),
        responses=READS,
    )
    async def deliveries(
        self,
        subscription_id: FromPath[UUID],
        principal: PrincipalDep,
        state: State,
        before: Annotated[
            int | None,
            QueryParameter(description="next_before of the previous page", ge=1, le=2**63 - 1),
        ] = None,
        limit: Annotated[
            int,
            QueryParameter(description=f"At most this many (1-{MAX_LIMIT})", ge=1, le=MAX_LIMIT),
        ] = DEFAULT_LIMIT,
    ) -> DeliveryLog:
        """Keyset pages, newest first."""
        await manage.mine(state.pool, principal, subscription_id)
        page, next_before = await store.attempts(state.pool, subscription_id, before, limit)
        return DeliveryLog(attempts=[DeliveryAttempt.of(a) for a in page], next_before=next_before)

    @get(
        ONE + "/dead-letters",
        operation_id="listDeadLetters",
        summary="List the deliveries that gave up retrying",
        description=(
            "A delivery is retried with exponential backoff and jitter (5 s doubling to an "
            "hour) for `TRACKER_WEBHOOK_RETRY_HOURS` (24 by default); then it is a dead letter "
            "here, and its stream's later events go on. At most 1000, oldest first." + ACCESS
        ),
        responses=READS,
    )
    async def dead_letters(
        self, subscription_id: FromPath[UUID], principal: PrincipalDep, state: State
    ) -> DeadLetters:
        """Oldest first."""
        await manage.mine(state.pool, principal, subscription_id)
        found = await store.dead_letters(state.pool, subscription_id, 1000)
        return DeadLetters(dead_letters=[DeadLetter.of(q) for q in found])

    @post(
        ONE + "/redeliveries",
        operation_id="redeliverDeadLetters",
        summary="Send dead letters again (all, or those at the positions given)",
        description=(
            "The dead letters go back into the retry queue, due at once, each in its stream's "
            "order before the stream's later waiting events; the answer says how many." + ACCESS
        ),
        responses=CHANGES,
        status_code=200,
    )
    async def redeliver(
        self,
        subscription_id: FromPath[UUID],
        data: JSONBody[Redelivery],
        call: Call,
        state: State,
    ) -> Response[Redelivered]:
        """Queued again, due now."""

        async def queued() -> tuple[msgspec.Struct, dict[str, str]]:
            s = await manage.mine(state.pool, call.principal, subscription_id)
            manage.require_version(s, call.if_match)
            count = await store.redeliver(state.pool, s.id, data.positions, state.now())
            return Redelivered(redelivered=count), {}

        return await once(state, call, 200, queued)
