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
from uuid import UUID

import asyncpg
import msgspec

from tracker import audit_cli, projections_cli, tokens
from tracker.application.principal import KINDS
from tracker.database import create_pool, database_url
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
    tokens = commands.add_parser("tokens", help="issue, list and revoke API tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True)
    issue = token_commands.add_parser("issue", help="issue a token (shown once)")
    issue.add_argument("--name", required=True)
    issue.add_argument("--kind", required=True, choices=KINDS)
    issue.add_argument("--leader", type=UUID, help="the leader a leader token acts as")
    issue.add_argument(
        "--forum", type=UUID, action="append", help="limit an integration to a forum (repeatable)"
    )
    token_commands.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=UUID)
    projections_cli.add_parser(commands)
    audit_cli.add_parser(commands)
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command == "serve":
        return serve_command(settings, args)
    if args.command == "migrate":
        return asyncio.run(migrate_command(settings))
    if args.command == "audit":
        return audit_cli.main(settings, args)
    if args.command == "projections":
        return projections_cli.main(settings, args)
    if args.command == "tokens":
        return asyncio.run(tokens_command(settings, args))
    if args.command == "openapi":
        args.output.write_text(openapi_document())
        print(f"wrote {args.output}")
        return 0
    return 2


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    """Start the database if needed, then the ASGI server (granian: chosen by bench/api.py)."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    # Resolve once here so every worker process shares one database (and one embedded server).
    os.environ["TRACKER_DATABASE_URL"] = database_url(settings)
    Granian(
        "tracker.api.app:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        log_level=LogLevels(settings.log_level),
        log_access=False,
    ).serve()
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


async def tokens_command(settings: Settings, args: argparse.Namespace) -> int:
    """Issue, list or revoke tokens."""
    pool = await create_pool(await asyncio.to_thread(database_url, settings), size=1)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        if args.tokens_command == "issue":
            try:
                secret = await tokens.issue(pool, args.name, args.kind, args.leader, args.forum)
            except ValueError as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            print(secret)
        elif args.tokens_command == "list":
            for t in await tokens.list_tokens(pool):
                state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
                leader = f" leader={t.leader_id}" if t.leader_id else ""
                print(f"{t.id}  {t.kind:<11} {t.name}{leader}  {state}")
        elif not await tokens.revoke(pool, args.token_id):
            print("error: no such active token", file=sys.stderr)
            return 1
        return 0
    finally:
        await pool.close()


def openapi_document() -> str:
    """The OpenAPI document of the app, as committed in openapi/."""
    from tracker.api.app import create_app

    schema = msgspec.json.decode(
        msgspec.json.encode(create_app(Settings()).openapi_schema.to_schema())
    )
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
