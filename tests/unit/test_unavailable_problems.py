"""A database that refuses or cannot take a request is a 503 the client may retry, never a 500,
and its detail says why when the database said so."""

from __future__ import annotations

import asyncpg
import pytest

from tracker.api.problems import to_problem
from tracker.connections import NO_SOCKET


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (asyncpg.DiskFullError("could not extend file"), "its disk is full (SQLSTATE 53100)"),
        (asyncpg.PostgresIOError("could not read block"), "I/O error (SQLSTATE 58030)"),
        (asyncpg.ReadOnlySQLTransactionError("read-only"), "it is read-only (SQLSTATE 25006)"),
        (ConnectionRefusedError(111, NO_SOCKET), "could not be reached"),
        (asyncpg.TooManyConnectionsError("too many clients"), "could not be reached"),
    ],
)
def test_the_database_refusing_is_a_503_saying_why(error: Exception, said: str) -> None:
    problem, headers = to_problem(error)
    assert problem.status == 503 and problem.type.endswith("/database-unavailable")
    assert said in problem.detail and headers == {"Retry-After": "1"}
