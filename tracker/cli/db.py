"""`tracker db status | stop`: the embedded PostgreSQL, for the operator."""

from __future__ import annotations

import click

from tracker import embedded
from tracker.cli.common import Ordered, fail, pass_settings
from tracker.settings import Settings


@click.group(cls=Ordered)
def db() -> None:
    """Inspect and stop the embedded database."""


@db.command()
@pass_settings
def status(settings: Settings) -> None:
    """Show the embedded database: where, if up, who uses it."""
    if settings.database_url:
        click.echo("database: external (TRACKER_DATABASE_URL); nothing embedded to show")
        return
    state = embedded.status(settings.data_dir)
    click.echo(f"data:    {state.pgdata}")
    if not state.initialised:
        click.echo("state:   not created yet (the first command that needs it creates it)")
        return
    click.echo(f"state:   {'running' if state.running else 'stopped'}")
    if state.running:
        click.echo(f"pid:     {state.pid}")
        click.echo(f"socket:  {state.socket_dir} (port {state.port})")
        click.echo(f"url:     {state.url}")
    click.echo(f"keeper:  {state.keeper if state.keeper is not None else 'none'}")
    click.echo(f"keep:    {'yes' if state.keep else 'no'} (when its last user ends)")
    click.echo(f"users:   {len(state.users)}")
    for pid in state.users:
        click.echo(f"  {pid}  {embedded.command_line(pid)}")


@db.command()
@click.option("--force", is_flag=True, help="Stop it even while processes use it.")
@pass_settings
def stop(settings: Settings, force: bool) -> None:
    """Stop the embedded database (in use: only with --force)."""
    if settings.database_url:
        fail("TRACKER_DATABASE_URL is set: there is no embedded database to stop")
    state = embedded.status(settings.data_dir)
    if state.users and not force:
        listed = ", ".join(str(pid) for pid in state.users)
        fail(f"processes use the embedded database ({listed}); stop them, or use --force")
    if embedded.stop(state.pgdata):
        click.echo(f"stopped the embedded database in {state.pgdata}")
    else:
        click.echo(f"the embedded database in {state.pgdata} was not running")
