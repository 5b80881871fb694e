"""Settings from TRACKER_* variables: defaults, bounds, and errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tracker.settings import Settings, SettingsError, variable


def test_no_variables_give_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_every_setting_is_read_from_its_variable() -> None:
    env = {
        "TRACKER_DATABASE_URL": "postgresql://tracker@db/tracker",
        "TRACKER_DATA_DIR": "/var/lib/tracker",
        "TRACKER_HOST": "0.0.0.0",
        "TRACKER_PORT": "8080",
        "TRACKER_WORKERS": "4",
        "TRACKER_POOL_SIZE": "16",
        "TRACKER_POLL_INTERVAL": "0.2",
        "TRACKER_LOG_LEVEL": "debug",
        "TRACKER_LOG_FORMAT": "JSON",
        "TRACKER_METRICS_PUBLIC": "on",
        "TRACKER_RUN_PROJECTIONS": "off",
        "TRACKER_SIGNING_KEY_FILE": "/etc/tracker/key.pem",
        "TRACKER_LOG_ORIGIN": "tracker.example/log",
        "TRACKER_SEAL_SECONDS": "0",
        "TRACKER_VIEW_CACHE_MB": "0",
        "TRACKER_VIEW_TIMEOUT_SECONDS": "2.5",
        "TRACKER_AS_OF_WAIT_SECONDS": "0.5",
        "TRACKER_VIEW_READS_PER_TOKEN": "4",
        "TRACKER_STATEMENT_TIMEOUT_SECONDS": "0",
        "TRACKER_IDLE_IN_TRANSACTION_SECONDS": "12.5",
        "TRACKER_TCP_KEEPALIVES_IDLE_SECONDS": "60",
        "TRACKER_TCP_KEEPALIVES_INTERVAL_SECONDS": "5",
        "TRACKER_TCP_KEEPALIVES_COUNT": "4",
        "TRACKER_LEASE_SECONDS": "4",
        "TRACKER_LEASE_RENEW_SECONDS": "0.5",
        "TRACKER_HORIZON_WARNING_SECONDS": "30",
        "TRACKER_EMBEDDED_KEEP": "yes",
        "TRACKER_READY_MAX_LAG_SECONDS": "15",
        "TRACKER_READY_REFUSED_WRITE_SECONDS": "5",
        "TRACKER_RUN_DELIVERIES": "off",
        "TRACKER_DELIVERIES_NICE": "5",
        "TRACKER_WEBHOOK_ALLOW_PRIVATE": "on",
        "TRACKER_WEBHOOK_TIMEOUT_SECONDS": "5",
        "TRACKER_WEBHOOK_RETRY_HOURS": "48",
        "TRACKER_WEBHOOK_SECRET_GRACE_HOURS": "2",
        "TRACKER_WEBHOOK_LOG_ATTEMPTS": "500",
        "TRACKER_SSE_HEARTBEAT_SECONDS": "5",
    }
    assert set(env) == {variable(f.name) for f in msgspec.structs.fields(Settings)}

    settings = Settings.from_env(env)

    assert settings == Settings(
        database_url="postgresql://tracker@db/tracker",
        data_dir=Path("/var/lib/tracker"),
        host="0.0.0.0",
        port=8080,
        workers=4,
        pool_size=16,
        poll_interval=0.2,
        log_level="debug",
        log_format="json",
        metrics_public=True,
        run_projections=False,
        signing_key_file=Path("/etc/tracker/key.pem"),
        log_origin="tracker.example/log",
        seal_seconds=0.0,
        view_cache_mb=0,
        view_timeout_seconds=2.5,
        as_of_wait_seconds=0.5,
        view_reads_per_token=4,
        statement_timeout_seconds=0.0,
        idle_in_transaction_seconds=12.5,
        tcp_keepalives_idle_seconds=60,
        tcp_keepalives_interval_seconds=5,
        tcp_keepalives_count=4,
        lease_seconds=4.0,
        lease_renew_seconds=0.5,
        horizon_warning_seconds=30.0,
        embedded_keep=True,
        ready_max_lag_seconds=15.0,
        ready_refused_write_seconds=5.0,
        run_deliveries=False,
        deliveries_nice=5,
        webhook_allow_private=True,
        webhook_timeout_seconds=5.0,
        webhook_retry_hours=48.0,
        webhook_secret_grace_hours=2.0,
        webhook_log_attempts=500,
        sse_heartbeat_seconds=5.0,
    )


def test_empty_variables_count_as_unset() -> None:
    assert Settings.from_env({"TRACKER_DATABASE_URL": "", "TRACKER_PORT": " "}) == Settings()


@pytest.mark.parametrize(
    ("text", "flag"),
    [("on", True), ("YES", True), ("true", True), ("1", True), ("Off", False), ("no", False)],
)
def test_flags_take_the_usual_words_in_any_case(text: str, flag: bool) -> None:
    assert Settings.from_env({"TRACKER_RUN_PROJECTIONS": text}).run_projections is flag


def test_log_levels_are_read_in_any_case() -> None:
    assert Settings.from_env({"TRACKER_LOG_LEVEL": "WARNING"}).log_level == "warning"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRACKER_PORT", "eighty", "TRACKER_PORT: expected int, got 'eighty'"),
        ("TRACKER_POOL_SIZE", "2.5", "TRACKER_POOL_SIZE: expected int, got '2.5'"),
        ("TRACKER_POLL_INTERVAL", "soon", "TRACKER_POLL_INTERVAL: expected float, got 'soon'"),
        ("TRACKER_RUN_PROJECTIONS", "maybe", "TRACKER_RUN_PROJECTIONS: expected bool"),
        (
            "TRACKER_LOG_LEVEL",
            "loud",
            "TRACKER_LOG_LEVEL: expected one of critical, error, warning, info, debug, got 'loud'",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_naming_its_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("name", "value", "bound"),
    [
        ("TRACKER_PORT", "0", "expected int >= 1"),
        ("TRACKER_PORT", "65536", "expected int <= 65535"),
        ("TRACKER_WORKERS", "0", "expected int >= 1"),
        ("TRACKER_POOL_SIZE", "0", "expected int >= 1"),
        ("TRACKER_POOL_SIZE", "5000", "expected int <= 1000"),
        ("TRACKER_POLL_INTERVAL", "0", "expected float > 0.0"),
        ("TRACKER_SEAL_SECONDS", "-1", "expected float >= 0.0"),
        ("TRACKER_LOG_ORIGIN", "a log", "expected str matching regex '^[^\\\\s+]+$'"),
        ("TRACKER_VIEW_CACHE_MB", "-32", "expected int >= 0"),
        ("TRACKER_VIEW_TIMEOUT_SECONDS", "0", "expected float > 0.0"),
        ("TRACKER_VIEW_TIMEOUT_SECONDS", "601", "expected float <= 600.0"),
        ("TRACKER_AS_OF_WAIT_SECONDS", "-1", "expected float > 0.0"),
        ("TRACKER_VIEW_READS_PER_TOKEN", "0", "expected int >= 1"),
    ],
)
def test_a_value_out_of_bounds_is_refused_naming_its_variable_and_bound(
    name: str, value: str, bound: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == f"{name}: {bound}, got {value!r}"
