"""`tracker audit seal | export | import | verify`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tracker.audit.keys import SigningKeyError
from tracker.database import create_pool, database_url
from tracker.migrate import migrate
from tracker.settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the audit sub-commands."""
    audit = commands.add_parser("audit", help="seal, export, import and verify the log")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    sub.add_parser("seal", help="seal the log now and print the newest signed tree head")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run one audit sub-command."""
    if args.audit_command == "seal":
        return asyncio.run(seal_command(settings))
    return 2


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
