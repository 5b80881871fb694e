"""What every connection the service opens tells the server: who it is, and its time limits."""

from __future__ import annotations

import errno
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from tracker.settings import Settings

# application_name by role, so pg_stat_activity tells the service's sessions apart.
API = "tracker-api"
PROJECTIONS = "tracker-projections"
SEALER = "tracker-sealer"
CLI = "tracker-cli"
# Roles whose work is long by nature (rebuilds, imports, exports, verification): no statement
# limit, so that a large log is never cut short halfway.
UNLIMITED_ROLES = frozenset({CLI})

NO_SOCKET = "no server is listening: its Unix socket is missing"

Connect = Callable[..., Awaitable[asyncpg.Connection]]


def session_settings(
    role: str, settings: Settings | None = None, statement_timeout: float | None = None
) -> dict[str, str]:
    """Startup parameters for one session of role (statement_timeout in seconds overrides)."""
    s = settings or Settings()
    if statement_timeout is None:
        statement_timeout = 0.0 if role in UNLIMITED_ROLES else s.statement_timeout_seconds
    return {
        "application_name": role,
        "statement_timeout": _milliseconds(statement_timeout),
        "idle_in_transaction_session_timeout": _milliseconds(s.idle_in_transaction_seconds),
        # The server's end: a client that vanished is noticed and its locks let go.
        "tcp_keepalives_idle": str(s.tcp_keepalives_idle_seconds),
        "tcp_keepalives_interval": str(s.tcp_keepalives_interval_seconds),
        "tcp_keepalives_count": str(s.tcp_keepalives_count),
        # The views' statements run in milliseconds, but their estimates can pass the planner's
        # JIT threshold: compiling one meeting view's statement took 2.2 s of its 2.2 s.
        "jit": "off",
        # The views' tables and indexes sit in memory, where a random read costs about what a
        # sequential one does: at the default 4, a leader view scanned the organisations table
        # once per row listed (5.0 ms against 2.4 ms). A URL's own value wins, as for the rest.
        "random_page_cost": "1.1",
    }


def for_url(url: str, params: dict[str, str]) -> dict[str, str]:
    """The parameters less any the URL sets itself: an operator's choice there wins."""
    given = set(parse_qs(urlsplit(url).query))
    return {k: v for k, v in params.items() if k not in given}


def _milliseconds(seconds: float) -> str:
    return str(round(seconds * 1000))


def keepalive_connect(settings: Settings | None = None) -> Connect:
    """asyncpg.connect that also turns on TCP keepalives at the client's end of the socket."""
    s = settings or Settings()

    async def connect_with_keepalives(*args: Any, **kwargs: Any) -> asyncpg.Connection:
        try:
            conn: asyncpg.Connection = await asyncpg.connect(*args, **kwargs)
        except FileNotFoundError as error:
            # A server stopped cleanly removes its Unix socket: as unreachable as a refused port,
            # and answered as such (503, retried), not as a missing file.
            raise ConnectionRefusedError(errno.ECONNREFUSED, NO_SOCKET) from error
        _keepalives(conn, s)
        return conn

    return connect_with_keepalives


def _keepalives(conn: asyncpg.Connection, s: Settings) -> None:
    """libpq's keepalives, which asyncpg has no option for: set on its socket directly."""
    # asyncpg keeps its transport private; without it the client could wait forever on a server
    # that vanished mid-reply.
    transport = getattr(conn, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket has no keepalives, and needs none
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", s.tcp_keepalives_idle_seconds),
        ("TCP_KEEPINTVL", s.tcp_keepalives_interval_seconds),
        ("TCP_KEEPCNT", s.tcp_keepalives_count),
    ):
        if hasattr(socket, option):  # Linux names; other systems keep their defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


async def connect(
    url: str, role: str, settings: Settings | None = None, statement_timeout: float | None = None
) -> asyncpg.Connection:
    """One connection of role, outside any pool, with the same settings as the pools'."""
    params = session_settings(role, settings, statement_timeout)
    return await keepalive_connect(settings)(url, server_settings=for_url(url, params))
