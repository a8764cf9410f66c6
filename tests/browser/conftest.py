"""Browser-test fixtures: Debian's Chromium driven by Playwright, a scriptable fake Rasa, and the web app.

Playwright comes from PyPI; the browser is the `chromium` Debian package (installed here when missing and
root). `playwright install` is never run: it downloads browsers, and this project loads nothing but
packages from the registries.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web
from browser_helpers import (
    AXE,
    CHROMIUM_ARGS,
    GREETING,
    HOST_SITE,
    NEUTRAL_PAGE,
    QUICK_EXIT_URL,
    REPO,
    SCRIPT,
    FakeRasa,
    Outside,
    WebApp,
    free_port,
    host_page,
    start_web,
)
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is missing: run `apt-get install -y chromium` as root (or `make test`).")
    return path


def _axe() -> Path:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is missing and npm is not installed: `apt-get install -y npm`, then `npm ci`.")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO, check=True)
    return AXE


@pytest.fixture(scope="session")
def axe_path() -> Path:
    return _axe()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _confine(context: BrowserContext, outside: Outside) -> None:
    """Serve the quick-exit target locally and block every other request that leaves 127.0.0.1."""

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "about:")):
            route.continue_()
        elif url.startswith(QUICK_EXIT_URL):
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=NEUTRAL_PAGE)
        elif url.startswith(HOST_SITE):
            # A family-centre site that embeds the chat as a widget; ?chat= names the chat's address.
            chat = unquote(url.split("chat=", 1)[1]) if "chat=" in url else ""
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=host_page(chat))
        else:
            outside.requests.append(url)
            route.abort()

    context.route("**/*", handle)


@pytest.fixture
def outside() -> Outside:
    return Outside()


@pytest.fixture
def context(browser: Browser, outside: Outside) -> Iterator[BrowserContext]:
    """A fresh browser profile with the page's own CSP enforced."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fi-FI")
    _confine(ctx, outside)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, outside: Outside) -> Iterator[Page]:
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    script_errors: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    yield page
    # Anything the page's own Content-Security-Policy blocked, or any uncaught script error, fails the test.
    assert not script_errors, script_errors
    assert not [e for e in console if "Content Security Policy" in e], console
    # Safety rule S5: the chat and the console load nothing from anywhere else.
    assert outside.requests == [], outside.requests


@pytest.fixture
def axe_context(browser: Browser, outside: Outside) -> Iterator[BrowserContext]:
    """A profile that lets Playwright inject axe-core as an inline script (the pages' CSP forbids that)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fi-FI", bypass_csp=True)
    _confine(ctx, outside)
    yield ctx
    ctx.close()


# --- a fake Rasa, so page behaviour is tested without a trained model ----------------------------------------


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa(port=free_port())

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        fake.received.append(body)
        if fake.down:
            return web.Response(status=500)
        return web.json_response(SCRIPT.get(str(body.get("message", "")).strip(), GREETING))

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    # Its own thread and loop: Playwright's sync API keeps an event loop running in the test thread.
    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", fake.port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(timeout=10), "fake Rasa did not start"
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def webapp(tmp_path_factory: pytest.TempPathFactory, fake_rasa: FakeRasa) -> Iterator[WebApp]:
    app = start_web(tmp_path_factory.mktemp("web"), fake_rasa.url,
                    {"PERHEOPAS_FRAME_ANCESTORS": f"'self' {HOST_SITE}"})
    try:
        yield app
    finally:
        app.process.terminate()
        app.process.wait(timeout=10)


@pytest.fixture
def rasa_up(fake_rasa: FakeRasa) -> Iterator[FakeRasa]:
    fake_rasa.down = False
    yield fake_rasa
    fake_rasa.down = False


@pytest.fixture
def rasa_down(fake_rasa: FakeRasa) -> Iterator[FakeRasa]:
    fake_rasa.down = True
    yield fake_rasa
    fake_rasa.down = False


