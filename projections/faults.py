"""Which errors are the database's passing trouble, retried, and which an event's own."""

from __future__ import annotations

import asyncpg

# SQLSTATE classes and codes that say nothing about the event being applied: a lost connection
# (08), a rolled-back transaction (40: serialization failure, deadlock), insufficient resources
# (53: disk full, out of memory, too many connections), operator intervention (57: a cancelled
# or timed-out statement, a terminated session, a shutdown), a system or I/O error (58), a lock
# not available (55P03) and a session ended for idling in its transaction (25P03).
TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})
TRANSIENT_CODES = frozenset({"55P03", "25P03"})


def transient(error: BaseException) -> bool:
    """Whether the error is the database's (retry later), not the event's (stop at it)."""
    if isinstance(error, asyncpg.PostgresError):
        code = error.sqlstate or ""
        return code[:2] in TRANSIENT_CLASSES or code in TRANSIENT_CODES
    # A connection closed under the client, a socket error, a client-side timeout.
    return isinstance(error, asyncpg.InterfaceError | OSError | ConnectionError | TimeoutError)
