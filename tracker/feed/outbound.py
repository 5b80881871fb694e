"""The HTTP client of webhook deliveries: one POST, bounded in time and size, to a checked
address, reusing one kept-alive connection per target.

Redirects are not followed (a 3xx is a failed attempt), and at most RESPONSE_LIMIT bytes of
an answer are read: a receiver owes nothing but its status.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Sequence

import msgspec

from tracker.feed.targets import Target, refusal

RESPONSE_LIMIT = 64 * 1024
HEAD_LIMIT = 16 * 1024


class Outcome(msgspec.Struct, frozen=True):
    """What one attempt came to: a status (None if none came back), its time, any error."""

    status: int | None
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx: the receiver has the message."""
        return self.status is not None and 200 <= self.status < 300


class RefusedAddress(Exception):
    """The target's name resolves to an address deliveries may not call."""


class Connection:
    """One kept-alive connection to a target."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class Client:
    """Posts to targets; each call is bounded by `timeout` seconds, connecting included."""

    def __init__(self, timeout: float, allow_private: bool, user_agent: str) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.user_agent = user_agent
        self._idle: dict[tuple[str, int, bool], list[Connection]] = {}
        self._heads: dict[str, bytes] = {}
        self._tls = ssl.create_default_context()

    def head(self, target: Target) -> bytes:
        """The start of every request to a target, up to its per-delivery header lines."""
        # Kept per target: a busy round builds thousands of requests to the same few targets.
        cached = self._heads.get(target.url)
        if cached is None:
            host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
            lines = [
                f"POST {target.path} HTTP/1.1",
                f"Host: {host}",
                f"User-Agent: {self.user_agent}",
                "Content-Type: application/json",
            ]
            cached = self._heads[target.url] = ("\r\n".join(lines) + "\r\n").encode()
        return cached

    async def post(self, target: Target, request: bytes) -> Outcome:
        """Send one request (head() and the rest, as on the wire); never raises for anything
        the network or receiver does."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                status = await self._exchange(target, request)
        except TimeoutError:
            return Outcome(None, time.perf_counter() - started, f"no answer in {self.timeout} s")
        except RefusedAddress as refused:
            return Outcome(None, time.perf_counter() - started, f"refused: {refused}")
        except (OSError, ValueError, asyncio.IncompleteReadError, ssl.SSLError) as error:
            message = f"{type(error).__name__}: {error}"[:500]
            return Outcome(None, time.perf_counter() - started, message)
        return Outcome(status, time.perf_counter() - started)

    async def post_all(self, target: Target, messages: Sequence[bytes]) -> list[Outcome]:
        """Send each request to the target, pipelined on one connection (HTTP/1.1): one write
        for them all and their answers read in order. Callers send at most one message per
        stream at a time, so a failure leaves the others' order intact. Messages left
        unanswered when the receiver closes the connection go again on a fresh one."""
        outcomes: list[Outcome] = []
        started = time.perf_counter()
        while len(outcomes) < len(messages):
            left = messages[len(outcomes) :]
            try:
                async with asyncio.timeout(self.timeout):
                    answered = await self._pipeline(target, left, started)
            except TimeoutError:
                error = f"no answer in {self.timeout} s"
                answered = [Outcome(None, time.perf_counter() - started, error)] * len(left)
            except RefusedAddress as refused:
                error = f"refused: {refused}"
                answered = [Outcome(None, time.perf_counter() - started, error)] * len(left)
            except (OSError, ValueError, asyncio.IncompleteReadError, ssl.SSLError) as failed:
                error = f"{type(failed).__name__}: {failed}"[:500]
                answered = [Outcome(None, time.perf_counter() - started, error)] * len(left)
            outcomes += answered
        return outcomes

    async def _pipeline(
        self, target: Target, messages: Sequence[bytes], started: float
    ) -> list[Outcome]:
        """Send every message, then read answers until all came or the connection ends (at
        least one: an error before the first answer raises)."""
        key = (target.host, target.port, target.tls)
        idle = self._idle.setdefault(key, [])
        conn = idle.pop() if idle else await self._connect(target)
        answered: list[Outcome] = []
        try:
            conn.writer.write(b"".join(messages))
            await conn.writer.drain()
            reusable = True
            while reusable and len(answered) < len(messages):
                status, reusable = await self._answer(conn)
                answered.append(Outcome(status, time.perf_counter() - started))
        except BaseException as error:
            conn.close()
            if answered and isinstance(error, Exception):
                return answered  # the rest go again on a fresh connection
            raise
        if reusable:
            idle.append(conn)
        else:
            conn.close()
        return answered

    async def _exchange(self, target: Target, request: bytes) -> int:
        key = (target.host, target.port, target.tls)
        idle = self._idle.setdefault(key, [])
        conn = idle.pop() if idle else await self._connect(target)
        try:
            status, reusable = await self._send(conn, request)
        except BaseException:
            conn.close()
            raise
        if reusable:
            idle.append(conn)
        else:
            conn.close()
        return status

    async def _connect(self, target: Target) -> Connection:
        """Resolve, check every address, and connect to the first that answers."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            target.host.strip("[]"), target.port, type=socket.SOCK_STREAM
        )
        addresses = [str(info[4][0]) for info in infos]
        for address in addresses:
            why = refusal(ipaddress.ip_address(address.split("%")[0]), self.allow_private)
            if why is not None:
                raise RefusedAddress(f"{target.host} resolves to {why}")
        last: OSError = OSError(f"{target.host} has no address")
        for address in addresses:
            try:
                reader, writer = await asyncio.open_connection(
                    address,
                    target.port,
                    ssl=self._tls if target.tls else None,
                    server_hostname=target.host if target.tls else None,
                    limit=HEAD_LIMIT,
                )
                return Connection(reader, writer)
            except OSError as error:
                last = error
        raise last

    async def _send(self, conn: Connection, request: bytes) -> tuple[int, bool]:
        """One request and its answer: the status, and whether the connection can be reused."""
        conn.writer.write(request)
        await conn.writer.drain()
        return await self._answer(conn)

    async def _answer(self, conn: Connection) -> tuple[int, bool]:
        """One answer's status, and whether the connection can be reused after it."""
        head = await conn.reader.readuntil(b"\r\n\r\n")
        # Parsed as bytes, only the fields a delivery needs: every delivery reads an answer.
        end = head.find(b"\r\n")
        version, _, rest = head[:end].partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) < 3 or not code.isdigit():
            raise ValueError(f"not an HTTP answer: {head[:end][:100]!r}")
        fields = head[end:].lower()
        length = _field(fields, b"content-length")
        keep = b"close" not in _field(fields, b"connection") and version == b"HTTP/1.1"
        if length.isdigit() and int(length) <= RESPONSE_LIMIT:
            await conn.reader.readexactly(int(length))
            return int(code), keep
        # No length, chunked, or too long: read no further, and start afresh next time.
        return int(code), False

    def close(self) -> None:
        """Close every idle connection."""
        for connections in self._idle.values():
            for conn in connections:
                with contextlib.suppress(Exception):
                    conn.close()
        self._idle.clear()


def _field(fields: bytes, name: bytes) -> bytes:
    """A header's value (the last, if repeated) from an answer's lowercased header lines."""
    start = fields.rfind(b"\r\n" + name + b":")
    if start < 0:
        return b""
    start += len(name) + 3
    return fields[start : fields.find(b"\r\n", start)].strip()
