"""Helpers for the browser tests (no fixtures): the fake Rasa, the web app process, axe-core, screenshots."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from stack import free_port  # this pytest-xdist worker's share of the ports (tests/stack.py)

import bot.callbacks.models  # noqa: F401  (registers the bot's tables)
import bot.stats.models  # noqa: F401  (the anonymous counters)
import catalog.models  # noqa: F401
from core.db import Base, make_engine

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
QUICK_EXIT_URL = "https://yle.fi/saa"
NEUTRAL_PAGE = "<!doctype html><html lang='fi'><title>Sää</title><h1>Sää tänään</h1></html>"
HOST_SITE = "https://perhekeskus.example.fi"
# The embedding test's host site is served by Playwright, so Chromium takes it for a public site and would
# block its frame on 127.0.0.1 (Local Network Access); in real use both sites are public.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-features=LocalNetworkAccessChecks"]
# A fixed Friday evening before Christmas week: the next office day is Monday 22.12.
FIXED_NOW = "2025-12-19T18:00:00+02:00"
STAFF_PASSWORD = "kahvi-ja-pulla-2025"


def host_page(chat_url: str) -> str:
    return ("<!doctype html><html lang='fi'><title>Perhekeskus</title><h1>Perhekeskus</h1>"
            f"<iframe src='{chat_url}' title='Perheopas-chat' width='400' height='600'></iframe></html>")


@dataclass
class Outside:
    """Requests the page tried to send anywhere but the app under test (all are blocked)."""

    requests: list[str] = field(default_factory=list)


def axe_violations(page: Page, axe: Path) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the current page (WCAG 2.x A/AA and best practice)."""
    page.add_script_tag(path=str(axe))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@dataclass
class FakeRasa:
    """Answers the REST channel with scripted replies; `down` makes it fail like a crashed Rasa."""

    port: int
    down: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SCRIPT: dict[str, list[dict[str, Any]]] = {
    "nappi": [{"text": "Mitä haluat tietää perhekahvilasta?",
               "buttons": [{"title": "Aukioloajat", "payload": "/ask_opening_hours"},
                           {"title": "Jotain muuta", "payload": "/out_of_scope"}]}],
    "/ask_opening_hours": [{"text": "Testikylän perhekahvila (esimerkkitieto) on auki tiistaisin 9.00–12.00.\n"
                                    "Puhelin 040 123 4567\nhttps://perhekeskus.example.fi/perhekahvila."}],
    "perhekahvila": [{"text": "Testikylän perhekahvila (esimerkkitieto) on auki tiistaisin 9.00–12.00."},
                     {"custom": {"feedback_topic": "kohtaamispaikka"}}],
    "html": [{"text": "<img src=x onerror=\"window.pwned=1\"> javascript:window.pwned=1 "
                      "<a href='javascript:window.pwned=1'>linkki</a>"}],
}
GREETING = [{"text": "Hei! Olen Perheopas, perhekeskuksen automaattinen chat-opas – en ihminen."}]


@dataclass
class WebApp:
    """The web app (`python -m bot web`) running as its own process against a test database."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def add_staff_user(self, name: str, password: str = STAFF_PASSWORD) -> None:
        """Through the real CLI (contract 6): the password goes in on stdin."""
        subprocess.run([sys.executable, "-m", "bot", "staff", "add-user", name], input=password.encode() + b"\n",
                       env=self.env, cwd=REPO, check=True, capture_output=True, timeout=120)


def start_web(workdir: Path, rasa_url: str, extra_env: dict[str, str] | None = None) -> WebApp:
    database = workdir / "app.db"
    engine = make_engine(f"sqlite:///{database}")
    Base.metadata.create_all(engine)
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PERHEOPAS_RASA_URL": rasa_url,
           "PERHEOPAS_NOW": FIXED_NOW, "PERHEOPAS_VAR": str(workdir),
           **(extra_env or {})}
    log = (workdir / "web.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "bot", "web", "--port", str(port)], cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("web app did not start:\n" + (workdir / "web.log").read_text()) from None
            time.sleep(0.2)
    return WebApp(url=url, env=env, process=process)


def screenshot_dir() -> Path | None:
    """Set PERHEOPAS_SCREENSHOTS=docs to refresh the README's screenshots while the tests run."""
    target = os.environ.get("PERHEOPAS_SCREENSHOTS", "").strip()
    if not target:
        return None
    path = (REPO / target).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
