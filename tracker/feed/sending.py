"""Signing and sending deliveries, with the names their bodies carry: what one round of the
deliverer shares among its subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from projections.queries.names import names_of_ids
from tracker.application.clock import Now
from tracker.eventstore import RecordedEvent
from tracker.feed import payload
from tracker.feed.outbound import Client, Outcome
from tracker.feed.signing import signatures
from tracker.feed.store import Subscription
from tracker.feed.targets import Target
from tracker.observability.instruments import webhook_attempted

PIPES = 4  # connections per target a wave's pipelined deliveries spread over


class Sender:
    """Signs and posts events; bodies and names are kept for the round (see Deliverer)."""

    pool: asyncpg.Pool
    client: Client
    source: str
    now: Now
    wall: Now
    _bodies: dict[int, bytes]
    _names: dict[str, str]
    _looked: set[UUID]
    _seen: set[int]
    _lookups: list[asyncio.Future[None]]

    async def _name(self, events: Sequence[RecordedEvent]) -> None:
        """Look up the names these events mention that this round has not looked up yet: one
        query for the batch. Only ids in events the subscriber receives are named."""
        # Most subscriptions carry the same events: the ids of each are found once per round.
        fresh = [e for e in events if e.position not in self._seen]
        self._seen.update(e.position for e in fresh)
        wanted = payload.mentioned_by(fresh) - self._looked
        if wanted:
            self._looked |= wanted
            self._lookups.append(asyncio.ensure_future(self._look_up(wanted)))
        # Subscriptions run concurrently: another's lookup may still be under way.
        if self._lookups:
            await asyncio.gather(*self._lookups)

    async def _look_up(self, ids: set[UUID]) -> None:
        self._names.update(await names_of_ids(self.pool, ids))

    async def _send_all(
        self, subscription: Subscription, events: Sequence[RecordedEvent]
    ) -> list[Outcome]:
        """Sign and post events of distinct streams, pipelined over a few connections."""
        messages = [self._message(subscription, e) for e in events]
        pipes = min(PIPES, len(messages))
        target = Target(subscription.target_url)
        parts = await asyncio.gather(
            *(self.client.post_all(target, messages[i::pipes]) for i in range(pipes))
        )
        outcomes: list[Outcome] = [None] * len(messages)  # type: ignore[list-item]
        for i, part in enumerate(parts):
            outcomes[i::pipes] = part
        for outcome in outcomes:
            webhook_attempted(outcome.ok)
        return outcomes

    async def _send(self, subscription: Subscription, event: RecordedEvent) -> Outcome:
        """Sign and post one event."""
        headers, body = self._message(subscription, event)
        outcome = await self.client.post(Target(subscription.target_url), headers, body)
        webhook_attempted(outcome.ok)
        return outcome

    def _message(
        self, subscription: Subscription, event: RecordedEvent
    ) -> tuple[dict[str, str], bytes]:
        """One event's signed headers and body (encoded once per round, signed per target)."""
        body = self._bodies.get(event.position)
        if body is None:
            body = self._bodies[event.position] = payload.body(event, self.source, self._names)
        message_id = payload.webhook_id(event)
        timestamp = int(self.wall().timestamp())
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures(
                subscription.keys(self.now()), message_id, timestamp, body
            ),
        }
        return headers, body
