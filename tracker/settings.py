"""Settings, read from the environment in exactly one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

OFF = ("0", "off", "false", "no")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service can be configured with."""

    database_url: str | None = None
    data_dir: Path = Path(".tracker")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    pool_size: int = 8
    poll_interval: float = 0.05
    log_level: str = "info"
    # Run the projection runner inside the API process (off when workers run it apart).
    run_projections: bool = True
    # Signs tree heads; generated into data_dir/signing-key.pem when not given.
    signing_key_file: Path | None = None
    # Seal new events this often in `tracker serve` (0: never; `tracker audit seal` still works).
    seal_seconds: float = 10.0
    # Memory per worker for computed views, reused until their projections move (0: none).
    view_cache_mb: int = 32

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from TRACKER_* environment variables."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("TRACKER_DATABASE_URL") or None,
            data_dir=Path(env.get("TRACKER_DATA_DIR", ".tracker")),
            host=env.get("TRACKER_HOST", "127.0.0.1"),
            port=int(env.get("TRACKER_PORT", "8000")),
            workers=int(env.get("TRACKER_WORKERS", "1")),
            pool_size=int(env.get("TRACKER_POOL_SIZE", "8")),
            poll_interval=float(env.get("TRACKER_POLL_INTERVAL", "0.05")),
            log_level=env.get("TRACKER_LOG_LEVEL", "info"),
            run_projections=env.get("TRACKER_RUN_PROJECTIONS", "on").lower() not in OFF,
            signing_key_file=Path(p) if (p := env.get("TRACKER_SIGNING_KEY_FILE")) else None,
            seal_seconds=float(env.get("TRACKER_SEAL_SECONDS", "10")),
            view_cache_mb=int(env.get("TRACKER_VIEW_CACHE_MB", "32")),
        )
