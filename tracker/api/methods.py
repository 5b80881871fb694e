"""HEAD on every GET route, and Allow headers that list every method a path answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Send

# Scopes and messages are read as plain dicts: litestar's TypedDicts separate HTTP from
# websocket scopes, and this code looks only at HTTP ones.
Message = dict[str, Any]
HEAD_KEY = "tracker.head"


def answer_head_and_options(app: Litestar) -> None:
    """Wrap the app's handler, ahead of routing, so HEAD and Allow work on every path."""
    allowed = {
        route.path_format: _allow(route.methods)
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }
    app.asgi_handler = _wrapped(app.asgi_handler, allowed)


def _allow(methods: Iterable[str]) -> str:
    """An Allow header's value: HEAD goes wherever GET does."""
    found = {str(getattr(m, "value", m)) for m in methods}  # HttpMethod or its name
    if "GET" in found:
        found.add("HEAD")
    return ", ".join(sorted(found))


def _wrapped(inner: ASGIApp, allowed: dict[str, str]) -> ASGIApp:
    async def handler(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        options = scope["method"] == "OPTIONS"
        if head:
            # Routed and answered as GET; only the body is left out. A handler whose body never
            # ends (the event stream) reads HEAD here and ends it at once.
            scope["method"] = "GET"
            scope[HEAD_KEY] = True

        async def sending(message: Any) -> None:
            # Only OPTIONS answers and 405s carry Allow: other responses pass untouched.
            if message["type"] == "http.response.start" and (options or message["status"] == 405):
                message = _with_allow(message, allowed.get(scope.get("path_template", "")))
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await inner(scope, receive, sending)

    return handler


def _with_allow(message: Message, methods: str | None) -> Message:
    """The start of a response, its Allow header (OPTIONS, 405) listing every method."""
    headers = list(message.get("headers", []))
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"allow":
            # Litestar's OPTIONS answer lists only the methods of the first handler group on a
            # path, and neither it nor a 405 lists HEAD.
            given = methods or _allow([m.strip() for m in value.decode().split(",")])
            headers[i] = (name, given.encode())
            return {**message, "headers": headers}
    return message
