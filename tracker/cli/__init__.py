"""The `tracker` command line: one module per group of commands."""

# Plain click rather than litestar's CLI plugin: a plugin's commands hang off an app that litestar
# finds and builds first, while most of these need no app (and its `run` serves with uvicorn).

from __future__ import annotations

from collections.abc import Iterator, Sequence

import click

from tracker.cli.audit import audit
from tracker.cli.common import Ordered
from tracker.cli.db import db
from tracker.cli.deliveries import deliveries
from tracker.cli.doctor import doctor
from tracker.cli.projections import projections
from tracker.cli.service import (
    ACCESS_PATH,
    OPENAPI_PATH,
    access_command,
    migrate_command,
    openapi,
    openapi_document,
    serve,
)
from tracker.cli.tokens import tokens
from tracker.observability import logs
from tracker.settings import Settings, SettingsError

__all__ = ["ACCESS_PATH", "OPENAPI_PATH", "main", "openapi_document", "tracker"]


class CommandList(Ordered):
    """The top group: its help lists every command, those of sub-groups too, one line each."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Every command by its full name, with its one-line help."""
        with formatter.section("Commands"):
            formatter.write_dl(list(_commands(self, ctx, "")))


def _commands(group: click.Group, ctx: click.Context, prefix: str) -> Iterator[tuple[str, str]]:
    """The commands under group, sub-groups opened, each with its full name and one-line help."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, f"{prefix}{name} ")
        elif command is not None:
            yield prefix + name, command.get_short_help_str(limit=200)


@click.group(cls=CommandList, help="Commitment Tracker")
@click.pass_context
def tracker(ctx: click.Context) -> None:
    """Read the settings once for every command; a bad one ends here, naming its variable."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        click.echo(f"error: {error}", err=True)
        ctx.exit(2)
    logs.configure(settings.log_level, settings.log_format)
    ctx.obj = settings


for command in (
    serve,
    migrate_command,
    openapi,
    access_command,
    tokens,
    projections,
    deliveries,
    audit,
    db,
    doctor,
):
    tracker.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and of `python -m tracker`; exits with the status."""
    tracker.main(args=argv, prog_name="tracker")
