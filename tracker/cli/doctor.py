"""`tracker doctor`: check a deployment and explain what is wrong, in plain words."""

from __future__ import annotations

import asyncio

import asyncpg
import click

from tracker.application.clock import system_now
from tracker.cli.common import finish, pass_settings, resolved_url
from tracker.database import create_pool
from tracker.observability.doctor import Check, Patient, examine
from tracker.settings import Settings

COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}
CONNECT_SECONDS = 10


@click.command()
@click.option("--strict", is_flag=True, help="Exit non-zero on warnings too, not only failures.")
@pass_settings
def doctor(settings: Settings, strict: bool) -> None:
    """Check the deployment and explain each problem found."""
    checks = asyncio.run(_examine(settings))
    width = max(len(c.name) for c in checks)
    for check in checks:
        level = click.style(f"{check.level:<4}", fg=COLOURS[check.level], bold=True)
        click.echo(f"{level}  {check.name:<{width}}  {check.detail}")
    failed = [c.name for c in checks if c.level == "fail" or (strict and c.level == "warn")]
    if failed:
        click.echo(f"\n{len(failed)} problem(s): {', '.join(failed)}", err=True)
    finish(1 if failed else 0)


async def _examine(settings: Settings) -> list[Check]:
    """Every check, or the one failure that the database cannot be reached."""
    try:
        url = await resolved_url(settings)
        pool = await asyncio.wait_for(create_pool(url, size=2), CONNECT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return [Check("database", "fail", f"unreachable: {type(error).__name__}: {error}")]
    try:
        return await examine(Patient(pool, settings, system_now))
    finally:
        await pool.close()
