"""A contact request left in the chat while Rasa is down is handled end to end in the staff console."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from browser_helpers import STAFF_PASSWORD, FakeRasa, WebApp, axe_violations, screenshot_dir
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.slow

PHONE_TYPED = "050 987 6543"
PHONE_E164 = "+358509876543"
PHONE_SHOWN = "050 9876543"


def leave_contact_request(page: Page, webapp: WebApp) -> None:
    page.goto(webapp.url + "/")
    page.fill("#message", "haluaisin jutella jonkun kanssa erosta")
    page.keyboard.press("Enter")
    expect(page.locator("#callback")).to_be_visible()
    page.check("input[name=topic][value=eroauttaminen]")
    page.check("input[name=contact_method][value=call]")
    page.fill("#cb-phone", PHONE_TYPED)
    page.check("input[name=time_window][value=afternoon]")
    page.fill("#cb-alias", "Sanna")
    page.check("#cb-consent")
    page.click("#callback-form button[type=submit]")
    expect(page.locator("#cb-result")).to_contain_text("Kiitos")


def log_in(page: Page, webapp: WebApp, username: str, axe_path: Path | None = None) -> None:
    """A first log-in: the password, then enrolling an authenticator from the secret shown beside the QR code."""
    page.goto(webapp.url + "/staff")
    expect(page).to_have_url(re.compile(r"/staff/login$"))
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/staff/login/code$"))
    expect(page.locator(".qr svg")).to_be_visible()
    if axe_path is not None:
        assert axe_violations(page, axe_path) == []
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/staff$"))


def test_staff_handles_a_callback_left_through_the_chat(page: Page, browser: Browser, webapp: WebApp,
                                                       rasa_down: FakeRasa) -> None:
    leave_contact_request(page, webapp)
    webapp.add_staff_user("tyontekija")

    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fi-FI")
    console = staff.new_page()
    log_in(console, webapp, "tyontekija")
    card = console.locator("li.card", has_text=PHONE_SHOWN)
    expect(card.locator(f"a[href='tel:{PHONE_E164}']")).to_have_count(1)
    expect(card).to_contain_text("Ero ja tuki erotilanteessa")
    expect(card).to_contain_text("Iltapäivällä (12–16)")
    expect(card).to_contain_text("Sanna")
    expect(card).to_contain_text("22.12.2025")  # next office day after Friday evening 19.12.
    # Chromium treats http://127.0.0.1 as a secure context, so the production cookie settings apply here too.
    names = {c["name"] for c in staff.cookies()}
    assert names == {"__Host-perheopas-staff"}, "the log-in form's CSRF cookie is gone after log-in"
    cookie = staff.cookies()[0]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    shots = screenshot_dir()
    if shots:
        console.screenshot(path=str(shots / "staff-queue.png"), full_page=True)

    card.get_by_role("button", name=re.compile("Ota hoitoon")).click()
    expect(console.locator(".flash")).to_contain_text("sinun hoidossasi")
    card = console.locator("li.card", has_text=PHONE_SHOWN)
    card.get_by_label(re.compile("Muistiinpano")).fill("Soitin, ei vastannut. Yritän uudelleen klo 14.")
    card.get_by_role("button", name="Tallenna muistiinpano").click()
    expect(console.locator(".flash")).to_contain_text("Muistiinpano tallennettu")
    card = console.locator("li.card", has_text=PHONE_SHOWN)
    expect(card.get_by_label(re.compile("Muistiinpano"))).to_have_value(re.compile("ei vastannut"))
    card.get_by_role("button", name="Merkitse hoidetuksi").click()
    expect(console.locator(".flash")).to_contain_text("hoidetuksi")
    expect(console.locator("li.card", has_text=PHONE_SHOWN)).to_contain_text("ei vastannut")

    console.get_by_role("link", name="Tapahtumaloki").click()
    table = console.locator("table")
    for action in ("kirjautui sisään", "otti hoitoon", "tallensi muistiinpanon", "merkitsi hoidetuksi"):
        expect(table).to_contain_text(action)
    expect(table).not_to_contain_text(PHONE_E164)
    expect(table).not_to_contain_text(PHONE_SHOWN)

    console.get_by_role("button", name="Kirjaudu ulos").click()
    expect(console).to_have_url(re.compile(r"/staff/login\?msg=logged_out"))
    assert "__Host-perheopas-staff" not in {c["name"] for c in staff.cookies()}
    console.goto(webapp.url + "/staff")
    expect(console).to_have_url(re.compile(r"/staff/login"))
    staff.close()


def test_staff_pages_accessibility_axe(axe_context: BrowserContext, webapp: WebApp, rasa_down: FakeRasa,
                                       axe_path: Path) -> None:
    chat = axe_context.new_page()
    leave_contact_request(chat, webapp)
    webapp.add_staff_user("saavutettava")
    page = axe_context.new_page()
    page.goto(webapp.url + "/staff/login")
    assert axe_violations(page, axe_path) == []
    page.fill("#username", "saavutettava")
    page.fill("#password", "väärä-salasana-123")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_be_visible()
    assert axe_violations(page, axe_path) == []
    log_in(page, webapp, "saavutettava", axe_path)  # axe also checks the enrolment page
    assert axe_violations(page, axe_path) == []  # the queue of new requests
    page.locator("li.card").first.get_by_role("button", name=re.compile("Ota hoitoon")).click()
    expect(page.locator("textarea").first).to_be_visible()
    assert axe_violations(page, axe_path) == []  # a claimed request with its note form
    page.goto(webapp.url + "/staff/audit")
    assert axe_violations(page, axe_path) == []
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(webapp.url + "/staff?status=claimed")
    assert axe_violations(page, axe_path) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
