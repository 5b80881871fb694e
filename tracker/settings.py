"""Settings, read from the environment in exactly one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import msgspec
from msgspec import Meta

# Each setting is read from this prefix and its field name in capitals: port is TRACKER_PORT.
PREFIX = "TRACKER_"
LogLevel = Literal["critical", "error", "warning", "info", "debug"]
LogFormat = Literal["text", "json"]
# Flags also take the words people write in shells; msgspec knows true/false and 1/0.
FLAG_WORDS = {"on": "true", "yes": "true", "off": "false", "no": "false"}


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot run with."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service can be configured with."""

    database_url: str | None = None
    data_dir: Path = Path(".tracker")
    # Leave the embedded server running when the last process using it ends (off: stop it).
    embedded_keep: bool = False
    host: str = "127.0.0.1"
    # GET /health/ready answers 503 while a live projection lags more than this (0: not checked).
    ready_max_lag_seconds: Annotated[float, Meta(ge=0)] = 60.0
    # ... and for this long after the database last refused a request's write (a full disk).
    ready_refused_write_seconds: Annotated[float, Meta(gt=0, le=3600)] = 30.0
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, Meta(ge=1)] = 1
    # More than PostgreSQL's usual max_connections per process is a typo, not a tuning.
    pool_size: Annotated[int, Meta(ge=1, le=1000)] = 8
    poll_interval: Annotated[float, Meta(gt=0)] = 0.05
    log_level: LogLevel = "info"
    # text: readable lines; json: one object a line, for log collectors (docs/operations.md).
    log_format: LogFormat = "text"
    # Serve GET /metrics without a token, to scrapers on a trusted network (else admin/auditor).
    metrics_public: bool = False
    # Run the projection runner inside the API process (off when workers run it apart).
    run_projections: bool = True
    # Signs tree heads; generated into data_dir/signing-key.pem when not given.
    signing_key_file: Path | None = None
    # Names the log in its published checkpoints (c2sp.org/tlog-checkpoint origin line) and
    # names its key in their signature lines: a schema-less URL, unique to this log.
    log_origin: Annotated[str, Meta(pattern=r"^[^\s+]+$")] = "commitment-tracker.invalid/log"
    # Seal new events this often in `tracker serve` (0: never; `tracker audit seal` still works).
    seal_seconds: Annotated[float, Meta(ge=0)] = 10.0
    # Memory per worker for computed views, reused until their projections move (0: none).
    view_cache_mb: Annotated[int, Meta(ge=0)] = 32
    # Longest a view read may take before it is cancelled and answered 503 view-timeout.
    view_timeout_seconds: Annotated[float, Meta(gt=0, le=600)] = 10.0
    # How long a view as_of one of the newest events waits for the projections to apply it
    # before it is answered 503 behind.
    as_of_wait_seconds: Annotated[float, Meta(gt=0, le=600)] = 5.0
    # Live view reads one token may have in flight in a process before more are answered 429.
    view_reads_per_token: Annotated[int, Meta(ge=1, le=10_000)] = 16
    # Every connection the service opens: the longest a statement may run (0: no limit; long
    # work such as rebuilds and imports sets its own), and the longest a session
    # may sit idle inside an open transaction, which holds locks and the log's horizon.
    statement_timeout_seconds: Annotated[float, Meta(ge=0, le=86_400)] = 60.0
    idle_in_transaction_seconds: Annotated[float, Meta(ge=0, le=86_400)] = 30.0
    # TCP keepalives on both ends of every connection, so a peer that vanished without closing
    # (a cut network, a host gone) is noticed in idle + interval * count seconds.
    tcp_keepalives_idle_seconds: Annotated[int, Meta(ge=1, le=7200)] = 30
    tcp_keepalives_interval_seconds: Annotated[int, Meta(ge=1, le=600)] = 10
    tcp_keepalives_count: Annotated[int, Meta(ge=1, le=100)] = 3
    # A projection's leader holds a lease it renews this often; a standby takes over once the
    # lease has gone unrenewed for lease_seconds.
    lease_seconds: Annotated[float, Meta(gt=0, le=600)] = 3.0
    lease_renew_seconds: Annotated[float, Meta(gt=0, le=600)] = 1.0
    # Deliver webhooks inside `tracker serve` (off when `tracker deliveries run` does it apart).
    run_deliveries: bool = True
    # `tracker deliveries run` lowers its CPU priority by this much (0-19, as nice does), so that
    # on a busy machine commands come first and deliveries take the CPU left over.
    deliveries_nice: Annotated[int, Meta(ge=0, le=19)] = 10
    # Let webhook targets be private and loopback addresses (on-premises deployments); link-local
    # and metadata addresses and the service itself are refused whatever this says.
    webhook_allow_private: bool = False
    # The longest one delivery may take, connecting included.
    webhook_timeout_seconds: Annotated[float, Meta(gt=0, le=60)] = 10.0
    # How long a failing delivery is retried before it goes to the dead-letter list.
    webhook_retry_hours: Annotated[float, Meta(ge=24, le=720)] = 24.0
    # GET /events/stream sends a comment line after this long without a message.
    sse_heartbeat_seconds: Annotated[float, Meta(gt=0, le=300)] = 15.0
    # How long a rotated-out signing secret still signs beside the new one.
    webhook_secret_grace_hours: Annotated[float, Meta(ge=0, le=720)] = 24.0
    # Each subscription's delivery log keeps this many of its newest attempts.
    webhook_log_attempts: Annotated[int, Meta(ge=1, le=1_000_000)] = 10_000
    # A transaction holding the log's horizon back longer than this is named in GET
    # /projections and in a warning.
    horizon_warning_seconds: Annotated[float, Meta(gt=0, le=86_400)] = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from TRACKER_* environment variables; an empty one counts as unset."""
        env = os.environ if environ is None else environ
        values = {}
        for field in msgspec.structs.fields(cls):
            if raw := env.get(variable(field.name), "").strip():
                values[field.name] = _normalise(field.type, raw)
        try:
            return msgspec.convert(values, cls, strict=False, dec_hook=_decode)
        except msgspec.ValidationError as error:
            raise _explained(error, values) from None


def variable(field: str) -> str:
    """The environment variable a setting is read from."""
    return PREFIX + field.upper()


def _normalise(kind: Any, raw: str) -> str:
    """Flags and names are read in any case, flags also as on/off and yes/no."""
    if kind is bool or get_origin(kind) is Literal:
        raw = raw.lower()
        return FLAG_WORDS.get(raw, raw)
    return raw


def _decode(kind: type, value: Any) -> Any:
    """Paths, which msgspec leaves to the caller."""
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def _explained(error: msgspec.ValidationError, values: Mapping[str, str]) -> SettingsError:
    """`Expected int >= 1 - at $.workers` as `TRACKER_WORKERS: expected int >= 1, got '0'`."""
    message, _, path = str(error).replace("`", "").rpartition(" - at $.")
    expected = message.split(", got ")[0]
    if expected.startswith("Invalid enum value"):
        kind = next(f.type for f in msgspec.structs.fields(Settings) if f.name == path)
        expected = "expected one of " + ", ".join(get_args(kind))
    else:
        expected = expected[0].lower() + expected[1:]
    return SettingsError(f"{variable(path)}: {expected}, got {values[path]!r}")
