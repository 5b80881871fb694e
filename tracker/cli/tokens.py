"""`tracker tokens issue | list | revoke`."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import click

from tracker import tokens as api_tokens
from tracker.application.clock import system_now
from tracker.application.errors import NotFound
from tracker.application.principal import KINDS
from tracker.cli.common import Ordered, fail, migrated_pool, pass_settings, resolved_url
from tracker.domain import EVENT_TYPES, STREAM_TYPES, Leader
from tracker.domain.leader import DEACTIVATED
from tracker.eventstore import EventStore
from tracker.eventstore.mapper import EventMapper
from tracker.eventstore.repository import Repository
from tracker.settings import Settings


class Duration(click.ParamType[timedelta]):
    """A lifetime such as 30d, 12h, 90m or 3600s."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        """The timedelta, or click's usage error naming the option."""
        if isinstance(value, timedelta):
            return value
        try:
            return api_tokens.duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


@click.group(cls=Ordered)
def tokens() -> None:
    """Issue, list and revoke API tokens."""


@tokens.command()
@click.option("--name", required=True, help="Who or what the token is for.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What the token may do.")
@click.option("--leader", type=click.UUID, help="The registered leader a leader token acts as.")
@click.option(
    "--forum", type=click.UUID, multiple=True, help="Limit an integration to a forum (repeatable)."
)
@click.option(
    "--expires-in",
    type=Duration(),
    help="Refuse the token after this long: a number and s, m, h or d (30d). Default: never.",
)
@pass_settings
def issue(
    settings: Settings,
    name: str,
    kind: str,
    leader: UUID | None,
    forum: tuple[UUID, ...],
    expires_in: timedelta | None,
) -> None:
    """Issue a token (shown once)."""
    # The application's clock, which judges expiry too (docs/time.md).
    expires_at = system_now() + expires_in if expires_in is not None else None
    asyncio.run(_issue(settings, name, kind, leader, list(forum) or None, expires_at))


async def _issue(
    settings: Settings,
    name: str,
    kind: str,
    leader: UUID | None,
    forums: list[UUID] | None,
    expires_at: datetime | None,
) -> None:
    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        if leader is not None:
            await _check_leader(pool, leader)
        try:
            secret = await api_tokens.issue(pool, name, kind, leader, forums, expires_at)
        except ValueError as error:
            fail(str(error))
    click.echo(secret)


async def _check_leader(pool: asyncpg.Pool, leader_id: UUID) -> None:
    """Refuse a token for a leader who was never registered, or who was deactivated."""
    repository = Repository(EventStore(pool), EventMapper(EVENT_TYPES, STREAM_TYPES))
    try:
        leader = await repository.read(Leader, leader_id)
    except NotFound:
        fail(f"--leader: no leader {leader_id} is registered")
    if leader.status == DEACTIVATED:
        fail(f"--leader: leader {leader_id} is deactivated")


@tokens.command("list")
@pass_settings
def list_tokens(settings: Settings) -> None:
    """List tokens with state and expiry, never their secrets."""
    asyncio.run(_list(settings))


async def _list(settings: Settings) -> None:
    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        now = system_now()
        for t in await api_tokens.list_tokens(pool):
            state = t.state(now)
            if t.revoked_at:
                state += f" {t.revoked_at:%Y-%m-%d %H:%M}"
            leader = f" leader={t.leader_id}" if t.leader_id else ""
            expiry = f"expires {t.expires_at:%Y-%m-%dT%H:%M:%SZ}" if t.expires_at else "no-expiry"
            click.echo(f"{t.id}  {t.kind:<11} {t.name}{leader}  {state}  {expiry}")


@tokens.command()
@click.argument("token_id", type=click.UUID)
@pass_settings
def revoke(settings: Settings, token_id: UUID) -> None:
    """Revoke a token by id."""
    asyncio.run(_revoke(settings, token_id))


async def _revoke(settings: Settings, token_id: UUID) -> None:
    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        if not await api_tokens.revoke(pool, token_id):
            fail("no such active token")
