"""The docs page and its assets: public, served from this service, pinned by digest, policed."""

from __future__ import annotations

import base64
import hashlib
import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tracker.api.docs_page import SCALAR_INTEGRITY, SCALAR_JS, SCALAR_VERSION, STATIC

Client = AsyncTestClient[Litestar]


def test_the_committed_bundle_is_the_one_its_integrity_names() -> None:
    digest = hashlib.sha384((STATIC / SCALAR_JS).read_bytes()).digest()
    assert "sha384-" + base64.b64encode(digest).decode() == SCALAR_INTEGRITY
    assert f"@scalar/api-reference@{SCALAR_VERSION}" in (STATIC / SCALAR_JS).read_text()


async def test_the_docs_page_needs_no_token_and_loads_nothing_from_elsewhere(
    client: Client,
) -> None:
    answer = await client.get("/docs")
    assert answer.status_code == 200
    page = answer.text
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(source.startswith("/docs/") for source in sources), sources
    assert f'integrity="{SCALAR_INTEGRITY}"' in page
    # Nothing inline runs: the only scripts are the empty mount point and the bundle.
    assert re.findall(r"<script[^>]*>([^<]*)</script>", page) == ["", ""]


async def test_each_docs_page_names_a_fresh_nonce_in_a_policy_of_this_origin_only(
    client: Client,
) -> None:
    nonces = []
    for _ in range(2):
        answer = await client.get("/docs")
        policy = answer.headers["content-security-policy"]
        nonce = re.search(r'<meta property="csp-nonce" content="([^"]+)">', answer.text)
        assert nonce is not None and f"'nonce-{nonce[1]}'" in policy
        nonces.append(nonce[1])
        assert "default-src 'self'; script-src 'self';" in policy
        assert "http" not in policy and "unsafe-eval" not in policy
    assert nonces[0] != nonces[1]


async def test_the_assets_are_served_without_a_token(client: Client) -> None:
    answer = await client.get("/docs/assets/" + SCALAR_JS)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/docs/assets/scalar/LICENSE")).status_code == 200
    assert (await client.get("/docs/assets/scalar/missing.js")).status_code == 404


async def test_the_swagger_page_is_gone_and_the_document_is_public(client: Client) -> None:
    assert (await client.get("/docs/swagger")).status_code == 404
    answer = await client.get("/docs/openapi.json")
    assert answer.status_code == 200
    assert not any(path.startswith("/docs") for path in answer.json()["paths"])
