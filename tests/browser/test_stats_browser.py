"""The chat's feedback control, and the coordinators' dashboard: charts, the CSV, a worker refused, axe clean."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser_helpers import REPO, STAFF_PASSWORD, FakeRasa, WebApp, axe_violations, screenshot_dir
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_staff_browser import log_in

from bot.stats import counters
from core.db import make_engine, make_session_factory

pytestmark = pytest.mark.slow

TODAY = date(2025, 12, 19)  # browser_helpers.FIXED_NOW
TOPICS = {"kohtaamispaikka": 14, "eroneuvonta": 8, "turvakoti": 5, "vakivaltatyo": 6, "lastenvalvoja": 3}


def add_user(webapp: WebApp, name: str, role: str) -> None:
    subprocess.run([sys.executable, "-m", "bot", "staff", "add-user", name, "--role", role], cwd=REPO,
                   env=webapp.env, input=(STAFF_PASSWORD + "\n").encode(), check=True, capture_output=True, timeout=120)


def seed_counts(webapp: WebApp) -> None:
    """Four weeks of plausible counts, so every chart has something to draw."""
    engine = make_engine(webapp.env["DATABASE_URL"])
    found: list[counters.Count] = []
    for back in range(28):
        day = TODAY - timedelta(days=back)
        for topic, n in TOPICS.items():
            found.append(counters.Count(day, counters.SEARCH, topic, "Oulu", n // 2 + back % 3))
        found += [counters.Count(day, counters.CONVERSATION, f"{hour:02d}",
                                 counters.OFFICE if 8 <= hour < 16 else counters.AFTER_HOURS, 2 + hour % 4)
                  for hour in range(7, 24)]
        found += [counters.Count(day, counters.MESSAGE, amount=120), counters.Count(day, counters.FALLBACK, amount=9),
                  counters.Count(day, counters.NO_LOCAL, "kohtaamispaikka", "Tyrnävä", 2),
                  counters.Count(day, counters.NO_LOCAL, "turvakoti", "Pudasjärvi", 1),
                  counters.Count(day, counters.FEEDBACK, "kohtaamispaikka", counters.UP, 3),
                  counters.Count(day, counters.FEEDBACK, "kohtaamispaikka", counters.DOWN, 1),
                  counters.Count(day, counters.FEEDBACK, "eroneuvonta", counters.UP, 1),
                  counters.Count(day, counters.FEEDBACK_REASON, "kohtaamispaikka", "not_near", 1),
                  counters.Count(day, counters.CALLBACK_CREATED, "eroauttaminen", counters.CHAT, 1),
                  counters.Count(day, counters.CALLBACK_CLAIMED, "eroauttaminen", "4_24h", 1),
                  counters.Count(day, counters.CALLBACK_WAIT_MINUTES, "eroauttaminen", amount=300),
                  counters.Count(day, counters.SAFETY_REPLY, "danger", amount=back % 2)]
    # A small count of its own, so the dashboard's "< 5" does not wait on the chat test's feedback reaching the
    # database (the web app writes its counts every 5 s).
    found.append(counters.Count(TODAY, counters.FEEDBACK_REASON, "kohtaamispaikka", "wrong_info", 2))
    try:
        with make_session_factory(engine)() as db:
            assert counters.record(db, *found)
    finally:
        engine.dispose()


def test_feedback_on_a_service_answer(page: Page, webapp: WebApp, rasa_up: FakeRasa) -> None:
    page.goto(webapp.url + "/")
    page.fill("#message", "perhekahvila")
    page.keyboard.press("Enter")
    expect(page.get_by_role("group", name="Oliko vastauksesta apua?")).to_be_visible()
    feedback = page.locator(".feedback")
    feedback.get_by_role("button", name="Ei", exact=True).click()
    expect(page.get_by_role("group", name="Mikä meni vikaan?")).to_be_visible()
    expect(feedback.get_by_role("button", name="Ei löytynyt läheltä")).to_be_focused()
    feedback.get_by_role("button", name="Tieto oli väärin").click()
    expect(page.get_by_role("status")).to_contain_text("Kiitos palautteesta")


def test_coordinator_sees_the_dashboard_and_a_worker_does_not(browser: Browser, webapp: WebApp, rasa_down: FakeRasa,
                                                              axe_path: Path, axe_context: BrowserContext) -> None:
    seed_counts(webapp)
    add_user(webapp, "koordinaattori", "coordinator")
    add_user(webapp, "tyontekija2", "worker")

    page = axe_context.new_page()
    log_in(page, webapp, "koordinaattori")
    page.get_by_role("link", name="Tilastot").click()
    expect(page.get_by_role("heading", name="Tilastot", level=1)).to_be_visible()
    images = page.locator(".chart img")
    expect(images).to_have_count(6)
    page.wait_for_function("Array.from(document.querySelectorAll('.chart img'))"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    gaps = page.get_by_role("region", name="Katvealueet", exact=True)
    expect(gaps).to_contain_text("Tyrnävä")
    page.get_by_text("Luvut taulukkona: palaute aiheittain").click()
    expect(page.get_by_role("region", name="Palaute aiheittain, taulukko")).to_contain_text("< 5")
    assert axe_violations(page, axe_path) == []
    shots = screenshot_dir()
    if shots:
        page.goto(webapp.url + "/staff/stats")
        page.wait_for_function("Array.from(document.querySelectorAll('.chart img')).every(i => i.naturalWidth > 0)")
        page.screenshot(path=str(shots / "staff-stats.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Lataa luvut CSV-tiedostona").click()
    download = download_info.value
    assert download.suggested_filename.startswith("perheopas-tilastot-")
    exported = Path(download.path()).read_text(encoding="utf-8-sig")
    assert exported.splitlines()[0] == "kuvaaja,jakso,avain,tarkenne,määrä"
    assert "catalogue_gaps" in exported and "Tyrnävä" in exported

    worker = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fi-FI")
    console = worker.new_page()
    log_in(console, webapp, "tyontekija2")
    expect(console.get_by_role("link", name="Tilastot")).to_have_count(0)
    response = console.goto(webapp.url + "/staff/stats")
    assert response is not None and response.status == 403
    worker.close()
