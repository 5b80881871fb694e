"""`tracker audit seal | export | import | verify`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import click

from tracker.audit.export import moment
from tracker.audit.keys import SigningKeyError
from tracker.cli.common import Ordered, fail, finish, migrated_pool, pass_settings, resolved_url
from tracker.settings import Settings

FILE = click.Path(dir_okay=False, path_type=Path)


class Moment(click.ParamType[datetime, Any]):
    """An ISO 8601 time with its offset."""

    name = "moment"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The time, or a usage error saying why not."""
        try:
            return value if isinstance(value, datetime) else moment(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


@click.group(cls=Ordered)
def audit() -> None:
    """Seal, export, import and verify the log."""


@audit.command()
@pass_settings
def seal(settings: Settings) -> None:
    """Seal the log now and print the newest signed tree head."""
    asyncio.run(_seal(settings))


async def _seal(settings: Settings) -> None:
    """Seal the log now; print the newest signed tree head as JSON, for auditors to keep."""
    from tracker.audit.sealer import head_json, seal_now

    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        try:
            head, new = await seal_now(
                pool, settings.data_dir, settings.signing_key_file, settings.log_origin
            )
        except (LookupError, SigningKeyError) as error:
            fail(str(error))
    click.echo(head_json(head))
    if not new:
        click.echo("nothing new to seal: that is the newest head", err=True)


@audit.command()
@click.option("--output", type=FILE, help="The file to write (default: standard output).")
@click.option("--stream", type=click.UUID, help="Only this stream's events.")
@click.option("--stream-type", help="Only streams of this type.")
@click.option("--type", "types", multiple=True, help="Only this event type (repeatable).")
@click.option("--since", type=Moment(), help="Only events recorded at or after (ISO 8601).")
@click.option("--until", type=Moment(), help="Only events recorded before (ISO 8601).")
@pass_settings
def export(settings: Settings, /, output: Path | None, **only: Any) -> None:
    """Write the log as NDJSON, every envelope field and hash."""
    from tracker.audit.export import ExportFilter, export_command

    chosen = ExportFilter(
        stream_id=only["stream"],
        stream_type=only["stream_type"],
        types=list(only["types"]) or None,
        since=only["since"],
        until=only["until"],
    )
    finish(asyncio.run(_trail(settings, lambda pool: export_command(pool, output, chosen))))


@audit.command("import")
@click.argument("file", type=FILE)
@click.option("--seals", type=FILE, help="The log's seals (JSON, as GET /audit/seals serves).")
@click.option("--public-key", type=FILE, help="The public key(s) that signed them (PEM).")
@pass_settings
def import_(settings: Settings, file: Path, seals: Path | None, public_key: Path | None) -> None:
    """Load an export (and its seals) into an empty store.

    Refused while any other session is connected to the database.
    """
    from tracker.audit.importer import import_command
    from tracker.audit.restore_seals import restore_command

    if (seals is None) != (public_key is None):
        fail("--seals and --public-key go together", status=2)

    async def run(pool: asyncpg.Pool) -> int:
        if seals is None or public_key is None:
            return await import_command(pool, file)
        return await restore_command(pool, file, seals, public_key)

    # One connection: the import's own second connection would count as another session.
    finish(asyncio.run(_trail(settings, run, size=1)))


@audit.command()
@click.option("--against", type=FILE, help="Tree heads or checkpoints kept outside the database.")
@click.option(
    "--public-key", type=FILE, help="The pinned Ed25519 public key(s), PEM: the only trust."
)
@click.option("--earlier", type=FILE, help="An export kept earlier, to name what changed.")
@pass_settings
def verify(
    settings: Settings, against: Path | None, public_key: Path | None, earlier: Path | None
) -> None:
    """Recompute every chain, leaf and seal from the rows."""
    from tracker.audit.verify import verify_command

    finish(
        asyncio.run(
            _trail(settings, lambda pool: verify_command(pool, against, public_key, earlier))
        )
    )


@audit.command()
@click.option("--since", type=click.IntRange(min=0), default=0, help="Smallest tree size.")
@pass_settings
def checkpoints(settings: Settings, since: int) -> None:
    """Print seals as signed checkpoints (C2SP notes).

    Every seal of at least --since events, one note after another.
    """
    asyncio.run(_checkpoints(settings, since))


async def _checkpoints(settings: Settings, since: int) -> None:
    from tracker.audit.seals import checkpoints_since

    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        notes = await checkpoints_since(pool, since)
    # Notes are separated by one blank line, as a witness or an auditor's file keeps them.
    click.echo("\n".join(notes), nl=False)


@audit.command("rotate-key")
@pass_settings
def rotate_key(settings: Settings) -> None:
    """Replace the signing key, vouched for by the old one.

    The old key signs a rotation statement introducing the new one.
    """
    asyncio.run(_rotate(settings))


async def _rotate(settings: Settings) -> None:
    from tracker.application.clock import system_now
    from tracker.audit.rotate import rotate_key as rotate

    async with migrated_pool(await resolved_url(settings), size=1) as pool:
        try:
            old, new, _ = await rotate(
                pool, settings.data_dir, settings.signing_key_file, system_now()
            )
        except SigningKeyError as error:
            fail(str(error))
    click.echo(new.public_pem, nl=False)
    click.echo(
        f"key {new.key_id} replaces {old.key_id}; restart the server to sign with it", err=True
    )


async def _trail(
    settings: Settings, command: Callable[[asyncpg.Pool], Awaitable[int]], size: int = 2
) -> int:
    """Run an export, import or verification on a migrated pool (of two by default)."""
    async with migrated_pool(await resolved_url(settings), size=size) as pool:
        return await command(pool)
