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
from tracker.feed.signing import header_value, signed_content
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
    _ready: dict[int, tuple[int, tuple[bytes, bytes, bytes]]]
    _targets: dict[str, Target]
    _names: dict[str, str]
    _looked: set[UUID]
    _mentions: dict[int, set[UUID]]
    _lookups: list[asyncio.Future[None]]

    async def _name(self, events: Sequence[RecordedEvent]) -> None:
        """Look up the names these events mention that this round has not looked up yet: one
        query for the batch. Only ids in events the subscriber receives are named."""
        # Most subscriptions carry the same events: the ids of each are found once per round.
        fresh = [e for e in events if e.position not in self._mentions]
        wanted: set[UUID] = set()
        for event in fresh:
            # Kept for the event's body, which names the same ids.
            self._mentions[event.position] = ids = payload.mentioned(event)
            wanted |= ids
        wanted -= self._looked
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
        target = self._target(subscription.target_url)
        messages = self._messages(subscription, target, events)
        pipes = min(PIPES, len(messages))
        parts = await asyncio.gather(
            *(self.client.post_all(target, messages[i::pipes]) for i in range(pipes))
        )
        outcomes: list[Outcome] = [None] * len(messages)  # type: ignore[list-item]
        for i, part in enumerate(parts):
            outcomes[i::pipes] = part
        delivered = sum(1 for outcome in outcomes if outcome.ok)
        webhook_attempted(delivered, len(outcomes) - delivered)
        return outcomes

    async def _send(self, subscription: Subscription, event: RecordedEvent) -> Outcome:
        """Sign and post one event."""
        target = self._target(subscription.target_url)
        [message] = self._messages(subscription, target, [event])
        outcome = await self.client.post(target, message)
        webhook_attempted(int(outcome.ok), int(not outcome.ok))
        return outcome

    def _target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            target = self._targets[url] = Target(url)
        return target

    def _messages(
        self, subscription: Subscription, target: Target, events: Sequence[RecordedEvent]
    ) -> list[bytes]:
        """Events' requests as they go on the wire, signed with the subscription's keys."""
        head = self.client.head(target)
        keys = subscription.keys(self.now())
        timestamp = int(self.wall().timestamp())
        messages = []
        for event in events:
            signed, middle, body = self._prepared(event, timestamp)
            signature = header_value(keys, signed)
            messages.append(b"".join((head, middle, signature, b"\r\n\r\n", body)))
        return messages

    def _prepared(self, event: RecordedEvent, timestamp: int) -> tuple[bytes, bytes, bytes]:
        """An event's signed content, its header lines up to the signature's value, and its
        body: built once per event and second, whichever subscriptions it goes to."""
        ready = self._ready.get(event.position)
        if ready is not None and ready[0] == timestamp:
            return ready[1]
        body = self._bodies.get(event.position)
        if body is None:
            body = self._bodies[event.position] = payload.body(
                event, self.source, self._names, self._mentions.get(event.position)
            )
        message_id = payload.webhook_id(event)
        middle = (
            f"Content-Length: {len(body)}\r\nwebhook-id: {message_id}\r\n"
            f"webhook-timestamp: {timestamp}\r\nwebhook-signature: "
        ).encode()
        parts = (signed_content(message_id, timestamp, body), middle, body)
        self._ready[event.position] = (timestamp, parts)
        return parts
