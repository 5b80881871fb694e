"""The `tracker` command line: serve, migrate, openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from tracker.database import database_url
from tracker.migrate import MigrationChanged, migrate
from tracker.settings import Settings

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="tracker", description="Commitment Tracker")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API (embedded database by default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    commands.add_parser("migrate", help="apply pending database migrations")
    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=OPENAPI_PATH)
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command == "serve":
        return serve_command(settings, args)
    if args.command == "migrate":
        return asyncio.run(migrate_command(settings))
    if args.command == "openapi":
        args.output.write_text(openapi_document())
        print(f"wrote {args.output}")
        return 0
    return 2


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    """Start the database if needed, then the ASGI server."""
    import uvicorn

    # Resolve once here so every worker process shares one database (and one embedded server).
    os.environ["TRACKER_DATABASE_URL"] = database_url(settings)
    uvicorn.run(
        "tracker.api.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=False,
    )
    return 0


async def migrate_command(settings: Settings) -> int:
    """Apply migrations and say what was done."""
    conn = await asyncpg.connect(await asyncio.to_thread(database_url, settings))
    try:
        applied = await migrate(conn)
    except MigrationChanged as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print("applied: " + ", ".join(applied) if applied else "nothing to apply")
    return 0


def openapi_document() -> str:
    """The OpenAPI document of the app, as committed in openapi/."""
    from tracker.api.app import create_app

    schema = create_app(Settings()).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
