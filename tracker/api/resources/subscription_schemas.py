"""What the subscription operations take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from tracker.api.schemas import Command
from tracker.application.subscriptions import Filter
from tracker.eventstore import Checkpoint
from tracker.feed.store import Attempt, Queued, Subscription
from tracker.feed.targets import MAX_URL

MAX_ITEMS = 100
Secret = Annotated[
    str,
    Meta(
        pattern=r"^whsec_[A-Za-z0-9+/=]+$",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        description="The signing secret, shown only in this answer",
    ),
]
Position = Annotated[int, Meta(ge=1, le=2**63 - 1)]
EventType = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[a-z_]+\.[a-z_]+$")]


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """A log checkpoint as the API writes it elsewhere: `<transaction_id>:<position>`."""
    return f"{checkpoint.transaction_id}:{checkpoint.position}"


class NewSubscription(Command, frozen=True, kw_only=True):
    """A target URL and which readable events to send there (each filter left out: all)."""

    target_url: Annotated[str, Meta(min_length=1, max_length=MAX_URL)]
    description: Annotated[str, Meta(max_length=500)] = ""
    types: Annotated[list[EventType], Meta(min_length=1, max_length=MAX_ITEMS)] | None = None
    forum_ids: Annotated[list[UUID], Meta(min_length=1, max_length=MAX_ITEMS)] | None = None
    purpose_ids: Annotated[list[UUID], Meta(min_length=1, max_length=MAX_ITEMS)] | None = None
    leader_id: UUID | None = None
    # now: events appended from here on; beginning: the whole log the creator may read.
    start: Literal["now", "beginning"] = "now"

    def filter(self) -> Filter:
        """The selection, as the deliverer applies it."""

        def listed(items: list[UUID] | list[str] | None) -> tuple | None:  # type: ignore[type-arg]
            return None if items is None else tuple(dict.fromkeys(items))

        return Filter(
            types=listed(self.types),
            forum_ids=listed(self.forum_ids),
            purpose_ids=listed(self.purpose_ids),
            leader_id=self.leader_id,
        )


class SubscriptionState(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription: its target, filter, status, cursor and what waits on a retry.

    `cursor` is the log checkpoint every selected event up to which was answered 2xx or waits
    in the retry queue (`waiting`); `dead_letters` gave up retrying.
    """

    id: UUID
    target_url: str
    description: str
    types: list[str] | None
    forum_ids: list[UUID] | None
    purpose_ids: list[UUID] | None
    leader_id: UUID | None
    status: Literal["active", "paused"]
    paused_reason: Literal["by request", "failing"] | None
    cursor: str
    version: int
    created_at: datetime
    last_success_at: datetime | None
    failing_since: datetime | None
    waiting: int
    dead_letters: int
    next_retry_at: datetime | None
    previous_secret_valid_until: datetime | None

    @classmethod
    def of(
        cls, s: Subscription, counts: tuple[int, int, datetime | None], now: datetime
    ) -> SubscriptionState:
        """The subscription as its owner sees it (no secret)."""
        f = s.filter
        grace = s.previous_until if s.previous_until and s.previous_until > now else None
        return cls(
            id=s.id,
            target_url=s.target_url,
            description=s.description,
            types=None if f.types is None else list(f.types),
            forum_ids=None if f.forum_ids is None else list(f.forum_ids),
            purpose_ids=None if f.purpose_ids is None else list(f.purpose_ids),
            leader_id=f.leader_id,
            status=s.status,  # type: ignore[arg-type]
            paused_reason=s.paused_reason,  # type: ignore[arg-type]
            cursor=checkpoint_text(s.cursor),
            version=s.version,
            created_at=s.created_at,
            last_success_at=s.last_success_at,
            failing_since=s.failing_since,
            waiting=counts[0],
            dead_letters=counts[1],
            next_retry_at=counts[2],
            previous_secret_valid_until=grace,
        )


class CreatedSubscription(msgspec.Struct, frozen=True, kw_only=True):
    """A new subscription and its signing secret, shown this once."""

    subscription: SubscriptionState
    secret: Secret


class NewSecret(msgspec.Struct, frozen=True, kw_only=True):
    """The new signing secret, shown this once; the previous one signs too until the time given."""

    subscription_id: UUID
    secret: Secret
    previous_secret_valid_until: datetime
    version: int


class DeliveryAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt: when, the receiver's status (null: none came back), how long, the error,
    and when the next attempt is due (null: delivered, dead-lettered, or none planned)."""

    webhook_id: str
    position: int
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, a: Attempt) -> DeliveryAttempt:
        """An attempt as the delivery log shows it."""
        return cls(**msgspec.structs.asdict(a))


class DeliveryLog(msgspec.Struct, frozen=True, kw_only=True):
    """The newest attempts first; pass next_before back as `before` for older ones."""

    attempts: list[DeliveryAttempt]
    next_before: int | None


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery that gave up retrying: its event, attempts and last outcome."""

    webhook_id: str
    position: int
    stream_id: UUID
    attempts: int
    first_failed_at: datetime | None
    dead_at: datetime | None
    last_status: int | None
    last_error: str | None

    @classmethod
    def of(cls, q: Queued) -> DeadLetter:
        """A dead letter as the API shows it."""
        return cls(
            webhook_id=f"msg_{q.transaction_id}_{q.position}",
            position=q.position,
            stream_id=q.stream_id,
            attempts=q.attempts,
            first_failed_at=q.first_failed_at,
            dead_at=q.dead_at,
            last_status=q.last_status,
            last_error=q.last_error,
        )


class DeadLetters(msgspec.Struct, frozen=True, kw_only=True):
    """The subscription's dead letters, oldest first."""

    dead_letters: list[DeadLetter]


class Redelivery(Command, frozen=True, kw_only=True):
    """Which dead letters to send again, by position; left out, all of them."""

    positions: (
        Annotated[
            list[Annotated[int, Meta(ge=1, le=2**63 - 1)]], Meta(min_length=1, max_length=1000)
        ]
        | None
    ) = None


class Redelivered(msgspec.Struct, frozen=True, kw_only=True):
    """How many dead letters went back into the queue, due at once."""

    redelivered: int
