"""`tracker serve | migrate | openapi`."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import asyncpg
import click
import msgspec

from tracker.cli.common import HAS_UVLOOP, fail, pass_settings, resolved_url
from tracker.database import database_url
from tracker.migrate import MigrationChanged, migrate
from tracker.settings import Settings

OPENAPI_PATH = Path(__file__).resolve().parent.parent.parent / "openapi" / "openapi.json"
ACCESS_PATH = OPENAPI_PATH.parent.parent / "docs" / "access.md"


@click.command()
@click.option("--host", help="The address to listen on (default: TRACKER_HOST).")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="The port to listen on (default: TRACKER_PORT)."
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Server processes (default: TRACKER_WORKERS)."
)
@pass_settings
def serve(settings: Settings, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP API (embedded database by default)."""
    # granian rather than uvicorn: chosen by bench/api.py.
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    # Resolve once here so every worker process shares one database (and one embedded server).
    os.environ["TRACKER_DATABASE_URL"] = database_url(settings)
    Granian(
        "tracker.api.served:create_served_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        loop=Loops.uvloop if HAS_UVLOOP else Loops.asyncio,
        http=HTTPModes.http1,
        log_level=LogLevels(settings.log_level),
        log_access=False,
    ).serve()


@click.command("migrate")
@pass_settings
def migrate_command(settings: Settings) -> None:
    """Apply pending database migrations."""
    asyncio.run(_migrate(settings))


async def _migrate(settings: Settings) -> None:
    conn = await asyncpg.connect(await resolved_url(settings))
    try:
        applied = await migrate(conn)
    except MigrationChanged as error:
        fail(str(error))
    finally:
        await conn.close()
    click.echo("applied: " + ", ".join(applied) if applied else "nothing to apply")


@click.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=OPENAPI_PATH,
    help="The file to write (default: openapi/openapi.json).",
)
def openapi(output: Path) -> None:
    """Write the OpenAPI document."""
    output.write_text(openapi_document())
    click.echo(f"wrote {output}")


@click.command("access")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=ACCESS_PATH,
    help="The file to write (default: docs/access.md).",
)
def access_command(output: Path) -> None:
    """Write the access table, who may do what, as Markdown."""
    from tracker.application.access import render

    output.write_text(render())
    click.echo(f"wrote {output}")


def openapi_document() -> str:
    """The OpenAPI document of the app, as committed in openapi/."""
    from tracker.api.app import create_app

    schema = msgspec.json.decode(
        msgspec.json.encode(create_app(Settings()).openapi_schema.to_schema())
    )
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
