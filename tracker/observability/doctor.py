"""The doctor's checks: each looks at one part of a deployment and says how it is, plainly."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import asyncpg
import msgspec

from projections.registry import projection_names
from projections.status import ProjectionStatus, statuses
from tracker.application.clock import Now
from tracker.audit.backlog import backlog
from tracker.audit.keys import KEY_FILE, SigningKeyError, load
from tracker.eventstore.horizon import horizon
from tracker.migrate import MigrationChanged, migration_state
from tracker.observability.embedded import embedded_data
from tracker.settings import Settings
from tracker.tokens import list_tokens

Level = Literal["ok", "warn", "fail"]
# The oldest server the migrations and the log's horizon are tested on.
OLDEST_SERVER = 150000
HORIZON_WARN, HORIZON_FAIL = 10.0, 300.0  # seconds an open transaction may hold the log back
LAG_EVENTS, LAG_SECONDS = 1000, 60.0
TOKEN_NOTICE = timedelta(days=14)
DISK_WARN, DISK_FAIL = 2 * 2**30, 256 * 2**20  # bytes free
# Connections a server worker may open beside its pool: the projection leader, a rebuild,
# the sealer's and the live listener's.
EXTRA_CONNECTIONS = 4
SETTINGS = """
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       current_setting('max_connections')::int AS max_connections,
       current_setting('idle_in_transaction_session_timeout') AS idle_timeout
"""


class Check(msgspec.Struct, frozen=True):
    """One check's outcome and what it means."""

    name: str
    level: Level
    detail: str


class Patient(msgspec.Struct, frozen=True):
    """What the checks look at: the database, the settings and the clock."""

    pool: asyncpg.Pool
    settings: Settings
    now: Now


Checker = Callable[[Patient], Awaitable[list[Check]]]


async def database(p: Patient) -> list[Check]:
    """The server's version, and whether it allows the connections the service may open."""
    s = await p.pool.fetchrow(SETTINGS)
    assert s is not None  # a SELECT without FROM always answers one row
    version = f"PostgreSQL {s['version']}"
    if s["version_num"] < OLDEST_SERVER:
        return [Check("database", "fail", f"{version}: the service needs PostgreSQL 15 or newer")]
    needed = p.settings.workers * (p.settings.pool_size + EXTRA_CONNECTIONS)
    found = [Check("database", "ok", f"{version}, reachable")]
    if needed > s["max_connections"]:
        detail = (
            f"max_connections is {s['max_connections']}, but {p.settings.workers} worker(s) with "
            f"a pool of {p.settings.pool_size} may open {needed}: raise it or lower "
            "TRACKER_POOL_SIZE"
        )
        return [*found, Check("settings", "warn", detail)]
    idle = s["idle_timeout"]
    detail = f"max_connections {s['max_connections']} (service needs up to {needed})"
    if idle in ("0", "0ms"):
        detail += (
            "; idle_in_transaction_session_timeout is off, so a forgotten open transaction can "
            "hold the log's horizon back until someone ends it"
        )
    return [*found, Check("settings", "ok", detail)]


async def migrations(p: Patient) -> list[Check]:
    """Whether every migration file is applied, and none was edited after it was."""
    async with p.pool.acquire() as conn:
        try:
            state = await migration_state(conn)
        except MigrationChanged as error:
            return [Check("migrations", "fail", str(error))]
    if state.pending:
        pending = ", ".join(state.pending)
        detail = f"{len(state.pending)} not applied ({pending}): run `tracker migrate`"
        return [Check("migrations", "fail", detail)]
    return [Check("migrations", "ok", f"all {len(state.applied)} applied")]


async def projections(p: Patient) -> list[Check]:
    """Each projection's state and lag."""
    found = [_projection(s) for s in await statuses(p.pool, projection_names())]
    return found or [Check("projections", "warn", "none set up yet: `tracker serve` sets them up")]


def _projection(s: ProjectionStatus) -> Check:
    label, lag = f"projection {s.name}", f"{s.lag_events} events / {s.lag_seconds:.0f} s behind"
    if s.state == "failed":
        detail = (
            f"failed at position {s.failed_position}: {s.error}. "
            f"Fix the cause, then `tracker projections retry {s.name}`"
        )
        return Check(label, "fail", detail)
    if s.state == "retired":
        return Check(label, "warn", f"retired; `tracker projections drop {s.name}` removes it")
    if s.state == "rebuild interrupted":
        return Check(label, "warn", "a rebuild stopped part-way; run it again to finish")
    if s.state == "stopped":
        detail = f"no process leads it ({lag}); is `tracker serve` or `tracker projections run` up?"
        return Check(label, "warn", detail)
    behind = s.lag_events > LAG_EVENTS or s.lag_seconds > LAG_SECONDS
    return Check(label, "warn" if behind else "ok", f"{s.state}, {lag}")


async def transaction_horizon(p: Patient) -> list[Check]:
    """Whether an open transaction holds the readable log back, and whose it is."""
    now = await horizon(p.pool)
    b = now.blocker
    if b is None or b.age_seconds < HORIZON_WARN:
        return [Check("horizon", "ok", f"nothing holds the log back ({now.held_back} events)")]
    level: Level = "fail" if b.age_seconds >= HORIZON_FAIL else "warn"
    detail = (
        f"transaction of pid {b.pid} ({b.application or 'no application name'}, "
        f"user {b.user_name}, database {b.database}, {b.state}) has been open "
        f"{b.age_seconds:.0f} s and holds back {now.held_back} events from readers, projections "
        f"and the sealer. Last statement: {b.query!r}. If it is stuck, end it: "
        f"SELECT pg_terminate_backend({b.pid})"
    )
    return [Check("horizon", level, detail)]


async def signing_key(p: Patient) -> list[Check]:
    """Whether the key that signs seals is there and readable."""
    path = p.settings.signing_key_file or p.settings.data_dir / KEY_FILE
    if not path.exists():
        if p.settings.signing_key_file is not None:
            return [Check("signing key", "fail", f"{path} (TRACKER_SIGNING_KEY_FILE) is missing")]
        return [
            Check("signing key", "warn", f"{path} is missing; `tracker serve` creates a new one")
        ]
    try:
        key = load(path)
    except SigningKeyError as error:
        return [Check("signing key", "fail", str(error))]
    return [Check("signing key", "ok", f"{path}, key id {key.key_id}")]


async def sealer(p: Patient) -> list[Check]:
    """How long ago the log was last sealed, and how much waits for a seal."""
    now = await backlog(p.pool)
    if now.unsealed == 0:
        return [Check("sealer", "ok", f"every event is sealed ({now.tree_size})")]
    if now.sealed_at is None:
        detail = f"{now.unsealed} events and no seal yet"
        since = None
    else:
        since = (p.now() - now.sealed_at).total_seconds()
        detail = f"{now.unsealed} events unsealed; last seal {since:.0f} s ago"
    allowed = max(60.0, 6 * p.settings.seal_seconds)
    if p.settings.seal_seconds <= 0:
        return [Check("sealer", "warn", detail + "; TRACKER_SEAL_SECONDS=0 turns sealing off")]
    if since is None or since > allowed:
        return [Check("sealer", "warn", detail + "; is `tracker serve` running? see its log")]
    return [Check("sealer", "ok", detail)]


async def disk(p: Patient) -> list[Check]:
    """Free space where the embedded database keeps its data."""
    data = embedded_data(p.settings)
    if data is None:
        return [Check("disk", "ok", "the database is not embedded: its server's disk is not seen")]
    usage = await asyncio.to_thread(_usage, data)
    free = f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB under {data}"
    if usage.free < DISK_FAIL:
        return [Check("disk", "fail", free + ": PostgreSQL stops writing when it runs out")]
    return [Check("disk", "warn" if usage.free < DISK_WARN else "ok", free)]


def _usage(data: Path) -> shutil._ntuple_diskusage:
    """The file system's usage where the data lives (or will, once it is created)."""
    return shutil.disk_usage(data if data.exists() else Path.cwd())


async def expiring_tokens(p: Patient) -> list[Check]:
    """Tokens that stop working within the notice period."""
    now = p.now()
    soon = [
        t
        for t in await list_tokens(p.pool)
        if t.revoked_at is None and t.expires_at is not None and now < t.expires_at
        if t.expires_at <= now + TOKEN_NOTICE
    ]
    if not soon:
        return [Check("tokens", "ok", f"none expires within {TOKEN_NOTICE.days} days")]
    named = ", ".join(f"{t.name} ({t.kind}, {_when(t.expires_at, now)})" for t in soon)
    return [Check("tokens", "warn", f"expiring soon: {named}; issue replacements")]


def _when(moment: datetime | None, now: datetime) -> str:
    left = (moment or now) - now
    return f"in {left.days} d" if left.days else f"in {left.seconds // 3600} h"


CHECKS: dict[str, Checker] = {
    "database": database,
    "migrations": migrations,
    "projections": projections,
    "horizon": transaction_horizon,
    "signing key": signing_key,
    "sealer": sealer,
    "disk": disk,
    "tokens": expiring_tokens,
}


async def examine(patient: Patient) -> list[Check]:
    """Every check in order; one that cannot run is a failure naming why."""
    found: list[Check] = []
    for name, check in CHECKS.items():
        try:
            found += await check(patient)
        except asyncpg.UndefinedTableError as error:
            found.append(Check(name, "fail", f"not set up ({error}): run `tracker migrate`"))
        except (asyncpg.PostgresError, OSError) as error:
            found.append(Check(name, "fail", f"could not check: {type(error).__name__}: {error}"))
    return found
