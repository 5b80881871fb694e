"""`tracker audit seal | export | import | verify`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from uuid import UUID

from tracker.audit.export import moment
from tracker.audit.keys import SigningKeyError
from tracker.database import create_pool, database_url
from tracker.migrate import migrate
from tracker.settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the audit sub-commands."""
    audit = commands.add_parser("audit", help="seal, export, import and verify the log")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    sub.add_parser("seal", help="seal the log now and print the newest signed tree head")
    export = sub.add_parser("export", help="write the log as NDJSON, every envelope field and hash")
    export.add_argument("--output", type=Path, help="the file to write (default: standard output)")
    export.add_argument("--stream", type=UUID, help="only this stream's events")
    export.add_argument("--stream-type", help="only streams of this type")
    export.add_argument(
        "--type", dest="types", action="append", help="only this event type (repeatable)"
    )
    export.add_argument("--since", type=moment, help="only events recorded at or after (ISO 8601)")
    export.add_argument("--until", type=moment, help="only events recorded before (ISO 8601)")
    load = sub.add_parser("import", help="load an export into an empty store")
    load.add_argument("file", type=Path)
    verify = sub.add_parser("verify", help="recompute every chain, leaf and seal from the rows")
    verify.add_argument("--against", type=Path, help="tree heads saved from GET /audit/seals")
    verify.add_argument("--public-key", type=Path, help="the Ed25519 public key (PEM) kept too")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run one audit sub-command."""
    if args.audit_command == "seal":
        return asyncio.run(seal_command(settings))
    return asyncio.run(trail_command(settings, args))


async def trail_command(settings: Settings, args: argparse.Namespace) -> int:
    """Export, import or verify the log."""
    from tracker.audit.export import ExportFilter, export_command
    from tracker.audit.importer import import_command
    from tracker.audit.verify import verify_command

    pool = await create_pool(await asyncio.to_thread(database_url, settings), size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        if args.audit_command == "export":
            only = ExportFilter(
                stream_id=args.stream,
                stream_type=args.stream_type,
                types=args.types,
                since=args.since,
                until=args.until,
            )
            return await export_command(pool, args.output, only)
        if args.audit_command == "import":
            return await import_command(pool, args.file)
        return await verify_command(pool, args.against, args.public_key)
    finally:
        await pool.close()


async def seal_command(settings: Settings) -> int:
    """Seal the log now; print the newest signed tree head as JSON, for auditors to keep."""
    from tracker.audit.sealer import head_json, seal_now

    pool = await create_pool(await asyncio.to_thread(database_url, settings), size=1)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        try:
            head, new = await seal_now(pool, settings.data_dir, settings.signing_key_file)
        except (LookupError, SigningKeyError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(head_json(head))
        if not new:
            print("nothing new to seal: that is the newest head", file=sys.stderr)
        return 0
    finally:
        await pool.close()
