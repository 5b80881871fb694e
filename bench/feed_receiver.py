"""A webhook receiver for bench/feed.py: a process of its own, with nothing but the standard
library to start, that answers 204 and records each delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"


def receive(port: int, out: str) -> None:
    """Serve 204 to every POST on the port, appending `id stream version t` lines to out."""

    async def main() -> None:
        lines: list[str] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    body = json.loads(await reader.readexactly(length))
                    data = body["data"]
                    lines.append(
                        f"{body['id']} {data['stream_id']} {data['version']} "
                        f"{data['recorded_at']} {time.time()}\n"
                    )
                    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                writer.close()

        server = await asyncio.start_server(serve, HOST, port)
        # Port 0 takes a free port, told on stdout: ports chosen beforehand may be taken meanwhile.
        print(server.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
                append(out, lines)
                lines.clear()

    asyncio.run(main())


def append(out: str, lines: list[str]) -> None:
    """Add the lines to the receiver's file."""
    with Path(out).open("a") as f:
        f.writelines(lines)


if __name__ == "__main__":
    receive(int(sys.argv[1]), sys.argv[2])
