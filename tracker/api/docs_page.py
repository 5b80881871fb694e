"""The interactive API documentation at /docs, served with its assets from this service.

The page loads Scalar's standalone bundle, pinned and checked by its digest, from /docs/assets;
nothing comes from another origin, so the docs work on a closed network and a Content Security
Policy can allow only the service's own origin.
"""

from __future__ import annotations

import secrets
from html import escape
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
ASSETS = "/assets"
# The unmodified `dist/browser/standalone.js` of the npm package, and its SRI digest (sha384).
SCALAR_VERSION = "1.76.4"
SCALAR_JS = "scalar/standalone.js"
SCALAR_INTEGRITY = "sha384-hwB9WroDTpZaI38gr+u9CXA6ksz5gUYgD2GxXazKl/agT1L2GWUiRFWGJYNiFu4Q"

# Scalar's defaults reach its own services (fonts, telemetry, an assistant and a toolbar of its
# hosted products on local hosts); the policy would refuse them, so they are turned off.
SCALAR_OPTIONS = {
    "withDefaultFonts": False,
    "showDeveloperTools": "never",
    "telemetry": False,
    "agent": {"disabled": True},
    "mcp": {"disabled": True},
    "hideClientButton": True,
}


# The two stylesheets Scalar's bundle writes without the nonce (its toasts' and its theme's); they
# are fixed for this version, and the browser test names any new one after an upgrade.
SCALAR_STYLE_HASHES = (
    "'sha256-l/2OpPg0d+2VLTLgwjf5mQo2CYwHDEqdj5TjbfEyVJI='",
    "'sha256-T13Uev3xCax2N28XaoAE8DOzQZKvPp7ZQVAi1iRREjo='",
)


def content_security_policy(nonce: str) -> str:
    """Only this origin; a nonce and hashes admit the stylesheets Scalar writes at run time."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            " ".join(["style-src 'self'", f"'nonce-{nonce}'", *SCALAR_STYLE_HASHES]),
            # Style attributes only: code samples carry their line count in one, which differs
            # with each sample, so no hash can name them all; with images, fonts and requests
            # kept to 'self', a style attribute can neither load nor send anything elsewhere.
            "style-src-attr 'unsafe-inline'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def with_content_security_policy(app: ASGIApp) -> ASGIApp:
    """Give each docs response a fresh nonce (for the page to use) and the policy naming it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                policy = (b"content-security-policy", content_security_policy(nonce).encode())
                message["headers"] = [*message.get("headers", []), policy]
            await send(message)

        await app(scope, receive, send_with_policy)

    return middleware


class ScalarPage(OpenAPIRenderPlugin):
    """Scalar, loaded from this service, with no inline script or style."""

    def __init__(self, path: str = "/") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page: the nonce for Scalar's stylesheet, its mount point and options, the bundle."""
        assets = request.app.route_reverse("docs-assets", file_path="").rstrip("/") + "/"
        nonce = request.scope["state"]["csp_nonce"]
        title = escape(openapi_schema["info"]["title"])
        options = escape(msgspec.json.encode(SCALAR_OPTIONS).decode())
        url = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="csp-nonce" content="{nonce}">
<title>{title}</title>
<link rel="icon" href="{assets}favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{assets}docs.css">
</head>
<body>
<noscript>The API reference needs JavaScript; the document itself is at {url}.</noscript>
<script id="api-reference" data-url="{url}" data-configuration="{options}"></script>
<script src="{assets}{SCALAR_JS}" integrity="{SCALAR_INTEGRITY}" crossorigin="anonymous"></script>
</body>
</html>
""".encode()


def docs_router(path: str) -> Router:
    """The router the OpenAPI document and its page are served from, public and policed."""
    assets = create_static_files_router(
        ASSETS,
        directories=[STATIC],
        name="docs-assets",
        include_in_schema=False,
        opt={"public": True},
    )
    return Router(
        path,
        route_handlers=[assets],
        include_in_schema=False,
        middleware=[with_content_security_policy],
        opt={"public": True},
    )
