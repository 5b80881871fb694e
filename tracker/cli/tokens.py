"""`tracker tokens issue | list | revoke`."""

from __future__ import annotations

import asyncio
from uuid import UUID

import click

from tracker import tokens as api_tokens
from tracker.application.principal import KINDS
from tracker.cli.common import Ordered, fail, migrated_pool, pass_settings, resolved_url
from tracker.settings import Settings


@click.group(cls=Ordered)
def tokens() -> None:
    """Issue, list and revoke API tokens."""


@tokens.command()
@click.option("--name", required=True, help="Who or what the token is for.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What the token may do.")
@click.option("--leader", type=click.UUID, help="The leader a leader token acts as.")
@click.option(
    "--forum", type=click.UUID, multiple=True, help="Limit an integration to a forum (repeatable)."
)
@pass_settings
def issue(
    settings: Settings, name: str, kind: str, leader: UUID | None, forum: tuple[UUID, ...]
) -> None:
    """Issue a token (shown once)."""
    asyncio.run(_issue(settings, name, kind, leader, list(forum) or None))


async def _issue(
    settings: Settings, name: str, kind: str, leader: UUID | None, forums: list[UUID] | None
) -> None:
    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        try:
            secret = await api_tokens.issue(pool, name, kind, leader, forums)
        except ValueError as error:
            fail(str(error))
    click.echo(secret)


@tokens.command("list")
@pass_settings
def list_tokens(settings: Settings) -> None:
    """List tokens (never their secrets)."""
    asyncio.run(_list(settings))


async def _list(settings: Settings) -> None:
    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        for t in await api_tokens.list_tokens(pool):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            leader = f" leader={t.leader_id}" if t.leader_id else ""
            click.echo(f"{t.id}  {t.kind:<11} {t.name}{leader}  {state}")


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
