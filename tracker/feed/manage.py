"""The subscription use cases: create, read, pause, resume, rotate, delete, redeliver."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from tracker.application.commands import PreconditionFailed
from tracker.application.errors import NotFound
from tracker.application.principal import Principal
from tracker.application.subscriptions import Filter, limited, owner, require_owner
from tracker.eventstore import Checkpoint
from tracker.eventstore.log import newest
from tracker.feed import store
from tracker.feed.signing import new_secret
from tracker.feed.store import Subscription
from tracker.feed.targets import check


class Policy:
    """What the service allows of targets and secrets (from the settings)."""

    def __init__(self, allow_private: bool, own: tuple[str, int] | None, grace: timedelta) -> None:
        self.allow_private = allow_private
        self.own = own
        self.grace = grace


async def create(
    pool: asyncpg.Pool,
    policy: Policy,
    principal: Principal,
    target_url: str,
    only: Filter,
    description: str,
    from_start: bool,
    now: datetime,
) -> Subscription:
    """A new subscription, reading from the log's end (or its start); its secret is new."""
    check(target_url, policy.allow_private, policy.own)
    only = limited(principal, only)
    start = Checkpoint() if from_start else (await newest(pool) or Checkpoint())
    return await store.create(
        pool,
        uuid.uuid4(),
        owner(principal),
        principal,
        target_url,
        only,
        description,
        new_secret(),
        start,
        now,
    )


async def mine(pool: asyncpg.Pool, principal: Principal, subscription_id: UUID) -> Subscription:
    """The caller's subscription (any, for an admin); others' are unknown ids."""
    found = await store.one(pool, subscription_id)
    if found is None:
        raise store_not_found(subscription_id)
    require_owner(principal, subscription_id, found.owner)
    return found


def store_not_found(subscription_id: UUID) -> Exception:
    """The answer to a subscription id the caller does not have."""
    return NotFound("subscription", subscription_id)


def require_version(found: Subscription, if_match: int | None) -> None:
    """412 when If-Match names another version."""
    if if_match is not None and if_match != found.version:
        raise PreconditionFailed(found.id, if_match, found.version)


async def listed(pool: asyncpg.Pool, principal: Principal) -> list[Subscription]:
    """The caller's subscriptions; an admin's list is everyone's."""
    return await store.owned(pool, None if principal.kind == "admin" else owner(principal))


async def set_status(
    pool: asyncpg.Pool,
    principal: Principal,
    subscription_id: UUID,
    if_match: int | None,
    status: str,
) -> Subscription:
    """Pause or resume; resuming clears the failing mark, so retries start afresh."""
    found = await mine(pool, principal, subscription_id)
    require_version(found, if_match)
    reason = "by request" if status == store.PAUSED else None
    changed = await store.set_status(pool, subscription_id, status, reason)
    if changed is None:
        raise store_not_found(subscription_id)
    return changed


async def rotate(
    pool: asyncpg.Pool,
    policy: Policy,
    principal: Principal,
    subscription_id: UUID,
    if_match: int | None,
    now: datetime,
) -> Subscription:
    """A new secret; the old one keeps signing beside it for the grace period."""
    found = await mine(pool, principal, subscription_id)
    require_version(found, if_match)
    changed = await store.rotate(pool, subscription_id, new_secret(), now + policy.grace)
    if changed is None:
        raise store_not_found(subscription_id)
    return changed


async def delete(pool: asyncpg.Pool, principal: Principal, subscription_id: UUID) -> None:
    """Remove the subscription with its queue and log."""
    await mine(pool, principal, subscription_id)
    await store.delete(pool, subscription_id)
