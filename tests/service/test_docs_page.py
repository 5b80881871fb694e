"""The interactive docs render in a real browser from this service alone, within their policy."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import ConsoleMessage, Route, async_playwright

from tests.service.test_serve import free_port
from tracker.cli import OPENAPI_PATH

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; .ci/run installs it
LOOPBACK = {"127.0.0.1", "localhost"}
ARTEFACTS = Path(__file__).parents[2] / "test-artifacts"

NewDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def server(new_database: NewDatabase, tmp_path: Path) -> AsyncIterator[str]:
    """`tracker serve` on its own database and port; the base URL it answers on."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {
        "TRACKER_DATABASE_URL": await new_database(),
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tracker",
        "serve",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(_wait_for, base + "/health", process)
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)


def _wait_for(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.returncode is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server never answered /health")


def _summary(operation_id: str) -> str:
    document = json.loads(OPENAPI_PATH.read_text())
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return str(operation["summary"])
    raise AssertionError(f"no operation {operation_id}")


# Parsing Scalar's 5 MB bundle and a 0.5 MB document takes a headless browser several seconds.
@pytest.mark.timeout(180)
async def test_the_docs_render_offline_with_nothing_refused_by_their_policy(server: str) -> None:
    outside: list[str] = []
    problems: list[str] = []
    violations: list[str] = []

    async def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = await browser.new_page()
            await page.route("**/*", loopback_only)
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            await page.expose_function("reportViolation", lambda text: violations.append(text))
            await page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e =>"
                " window.reportViolation(`${e.effectiveDirective} ${e.blockedURI}`));"
            )
            answer = await page.goto(server + "/docs")
            assert answer is not None and answer.ok
            policy = await answer.header_value("content-security-policy")
            assert policy is not None and "default-src 'self'" in policy

            await page.get_by_role("button", name="Open Group - commitments").click()
            summary = _summary("makeCommitment")
            await page.get_by_role("link", name=summary).click()
            heading = page.get_by_role("heading", name=summary)
            await heading.wait_for(state="visible", timeout=30_000)
            await page.wait_for_load_state("networkidle")
            ARTEFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=ARTEFACTS / "docs.png", full_page=False)
        finally:
            await browser.close()

    assert outside == [], "the docs reached beyond this service"
    assert problems == []
    # Scalar's validation library probes whether it may compile code (`Function('')`), and uses
    # its interpreter when refused: that refusal is the policy working, not the page failing.
    assert [v for v in violations if v != "script-src eval"] == []
