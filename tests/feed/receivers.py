"""Webhook receivers on loopback, started by the tests: real HTTP servers with set behaviours."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OK, FAIL, HANG = "ok", "fail", "hang"


@dataclass
class Message:
    """One request as the receiver got it, and the status it answered (None: it hung)."""

    headers: dict[str, str]
    body: bytes
    status: int | None
    path: str = "/"

    @property
    def event(self) -> Any:
        """The CloudEvent the body carries."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1: `decide` says, per request, ok, fail or hang."""

    decide: Callable[[Message], str] = lambda message: OK
    messages: list[Message] = field(default_factory=list)
    # False: answer with Connection: close and close, leaving any pipelined requests unread.
    keep_alive: bool = True
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tracker"

    async def start(self) -> Receiver:
        """Listen (again on the same port, after a stop)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and drop open connections: the receiver is down."""
        if self._server is not None:
            self._server.close()
            for writer in self._open:
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    def delivered(self) -> list[Message]:
        """The messages answered 2xx, in arrival order."""
        return [m for m in self.messages if m.status is not None and m.status < 300]

    async def wait_for(self, count: int, seconds: float = 10.0) -> None:
        """Until `count` messages were answered 2xx, or fail after `seconds`."""
        async with asyncio.timeout(seconds):
            while len(self.delivered()) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                message = Message(headers, body, None, request_line.split(" ")[1])
                self.messages.append(message)
                how = self.decide(message)
                if how == HANG:
                    await asyncio.Event().wait()
                message.status = 204 if how == OK else 500
                reason = b"No Content" if how == OK else b"Internal Server Error"
                close = b"" if self.keep_alive else b"Connection: close\r\n"
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\n%s\r\n"
                    % (message.status, reason, close)
                )
                await writer.drain()
                self._arrived.set()
                if not self.keep_alive:
                    break
        self._open.discard(writer)
        writer.close()


def fails_times(
    n: int, only: Callable[[Message], bool] = lambda m: True
) -> Callable[[Message], str]:
    """Fail the first n requests `only` selects, then recover."""
    failed = [0]

    def decide(message: Message) -> str:
        if only(message) and failed[0] < n:
            failed[0] += 1
            return FAIL
        return OK

    return decide
