"""The web chat in a real browser: rendering, quick exit, keyboard-only use and the contact request.

These use a scripted fake Rasa, so they test the page and the web app, not the model;
test_stack_browser.py does the round trip through the real assistant.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from browser_helpers import HOST_SITE, QUICK_EXIT_URL, FakeRasa, Outside, WebApp, axe_violations
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.slow

BOT = ".msg.bot"


def send(page: Page, text: str) -> None:
    page.fill("#message", text)
    page.keyboard.press("Enter")


def focused(page: Page) -> str:
    return str(page.evaluate("(el => el && (el.id || el.textContent))(document.activeElement)"))


def tab_until(page: Page, predicate: str, limit: int = 40, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the JS predicate on document.activeElement is true."""
    for _ in range(limit):
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"keyboard focus never reached: {predicate}; now on {focused(page)!r}")


def test_bot_replies_render_buttons_links_and_no_html(page: Page, webapp: WebApp, rasa_up: FakeRasa,
                                                      outside: Outside) -> None:
    page.goto(webapp.url + "/")
    send(page, "moi")
    expect(page.locator(BOT).last).to_contain_text("automaattinen chat-opas")

    send(page, "nappi")
    buttons = page.locator(".buttons button")
    expect(buttons).to_have_count(2)
    assert buttons.first.evaluate("b => b.tagName + ':' + b.type") == "BUTTON:button"
    buttons.first.click()
    expect(page.locator(".msg.me").last).to_have_text(re.compile("Aukioloajat"))
    expect(page.locator(".buttons")).to_have_count(0)
    # The page shows the click before its request reaches the (fake) Rasa: wait for it rather than race it.
    deadline = time.monotonic() + 10
    while rasa_up.received[-1]["message"] != "/ask_opening_hours" and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert rasa_up.received[-1]["message"] == "/ask_opening_hours"

    link = page.locator(f"{BOT} a[href^='https://']")
    expect(link).to_have_count(1)
    assert link.get_attribute("href") == "https://perhekeskus.example.fi/perhekahvila"
    assert link.get_attribute("target") == "_blank"
    assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    assert page.locator(f"{BOT} a[href='tel:0401234567']").count() == 1

    # Typing instead of pressing a button retires the old buttons (the gateway would refuse their payloads).
    send(page, "nappi")
    expect(page.locator(".buttons button")).to_have_count(2)
    send(page, "moi")
    expect(page.locator(".buttons")).to_have_count(0)

    send(page, "html")
    expect(page.locator(BOT).last).to_contain_text("<img src=x")
    assert page.locator(f"{BOT} img").count() == 0
    assert page.locator(f"{BOT} a[href^='javascript']").count() == 0
    assert page.evaluate("window.pwned") is None
    assert outside.requests == []


def test_session_id_lives_only_in_session_storage(page: Page, context: BrowserContext, webapp: WebApp,
                                                  rasa_up: FakeRasa) -> None:
    page.goto(webapp.url + "/")
    send(page, "moi")
    expect(page.locator(BOT)).to_have_count(1)
    session_id = page.evaluate("sessionStorage.getItem('perheopas-session')")
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)
    assert rasa_up.received[-1]["sender"] == session_id
    assert page.evaluate("localStorage.length") == 0
    assert context.cookies() == []
    # Another tab is another conversation.
    other = context.new_page()
    other.goto(webapp.url + "/")
    assert other.evaluate("sessionStorage.getItem('perheopas-session')") is None


@pytest.mark.parametrize("how", ["escape", "click", "triple-shift"])
def test_quick_exit_replaces_the_page_and_back_does_not_return(page: Page, webapp: WebApp, rasa_up: FakeRasa,
                                                               how: str) -> None:
    page.goto(webapp.url + "/health")  # whatever the person had open before the chat
    page.goto(webapp.url + "/")
    send(page, "moi")
    expect(page.locator(BOT)).to_have_count(1)
    page.fill("#message", "kesken jäänyt viesti")
    if how == "escape":
        page.keyboard.press("Escape")
    elif how == "click":
        page.click("#quick-exit")
    else:
        page.locator("body").click(position={"x": 5, "y": 300})
        for _ in range(3):
            page.keyboard.press("Shift")
    page.wait_for_url(QUICK_EXIT_URL)
    expect(page.locator("h1")).to_have_text("Sää tänään")

    page.go_back()
    assert page.url == webapp.url + "/health", "Back must not return to the chat"
    page.goto(webapp.url + "/")
    assert page.evaluate("sessionStorage.length") == 0
    expect(page.locator(".msg")).to_have_count(0)
    expect(page.locator("#message")).to_have_value("")


def test_quick_exit_from_an_embedded_widget_leaves_the_host_page(page: Page, webapp: WebApp,
                                                                 rasa_up: FakeRasa) -> None:
    page.goto(f"{HOST_SITE}/?chat={quote(webapp.url + '/?embed=1', safe='')}")
    chat = page.frame_locator("iframe")
    chat.locator("#message").fill("moi")
    chat.locator("#message").press("Enter")
    expect(chat.locator(BOT)).to_have_count(1)
    chat.locator("#quick-exit").click()
    page.wait_for_url(QUICK_EXIT_URL)
    expect(page.locator("h1")).to_have_text("Sää tänään")


def test_typing_capitals_is_not_a_triple_shift(page: Page, webapp: WebApp, rasa_up: FakeRasa) -> None:
    page.goto(webapp.url + "/")
    page.focus("#message")
    page.keyboard.type("ABC Def GHI")
    assert page.url == webapp.url + "/"
    expect(page.locator("#message")).to_have_value("ABC Def GHI")


def test_keyboard_only_conversation(page: Page, webapp: WebApp, rasa_up: FakeRasa) -> None:
    page.goto(webapp.url + "/")
    page.keyboard.press("Tab")
    assert focused(page) == "quick-exit", "the quick exit must be first in the tab order"
    tab_until(page, "el.id === 'message'")
    page.keyboard.type("nappi")
    page.keyboard.press("Enter")
    expect(page.locator(".buttons button")).to_have_count(2)
    tab_until(page, "el.tagName === 'BUTTON' && el.textContent === 'Aukioloajat'", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator(BOT).last).to_contain_text("tiistaisin")
    assert focused(page) == "message", "after a button the focus returns to the message field"
    # Screen readers hear replies through the log's live region.
    log = page.locator("#log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"


def test_rasa_down_safety_reply_and_contact_request_by_keyboard(page: Page, webapp: WebApp,
                                                                rasa_down: FakeRasa) -> None:
    page.goto(webapp.url + "/")
    send(page, "tarvitsen apua")
    reply = page.locator(BOT).last
    expect(reply).to_contain_text("112")
    expect(reply).to_contain_text("080 005 005")
    form = page.locator("#callback")
    expect(form).to_be_visible()
    # The safety reply comes before the form in reading order (S2).
    assert page.evaluate("""() => !!(document.querySelector('#log').compareDocumentPosition(
        document.querySelector('#callback')) & Node.DOCUMENT_POSITION_FOLLOWING)""")
    for phrase in ("30 päivän", "lastensuojeluilmoitus", "ei ole hätäpalvelu", "näkevät vain"):
        expect(form).to_contain_text(phrase)

    # Submitting without consent and with a bad number: errors are shown and focus goes to the first one.
    tab_until(page, "el.name === 'topic'")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # second topic: eroauttaminen
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # contact method: call
    page.keyboard.press("Tab")
    assert focused(page) == "cb-phone"
    page.keyboard.type("123")
    tab_until(page, "el.name === 'time_window'")
    page.keyboard.press("Space")
    tab_until(page, "el.type === 'submit' && el.closest('#callback-form')")
    page.keyboard.press("Enter")
    expect(page.locator("#err-phone")).to_be_visible()
    expect(page.locator("#err-consent")).to_be_visible()
    assert focused(page) == "cb-phone"
    assert page.get_attribute("#cb-phone", "aria-invalid") == "true"

    page.keyboard.press("Control+A")
    page.keyboard.type("040 765 4321")
    tab_until(page, "el.id === 'cb-consent'")
    page.keyboard.press("Space")
    tab_until(page, "el.type === 'submit' && el.closest('#callback-form')")
    page.keyboard.press("Enter")
    result = page.locator("#cb-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text("1–3 arkipäivän kuluessa, viimeistään maanantaina 29.12.")
    assert focused(page) == "cb-result"
    expect(page.locator("#callback-form")).to_be_hidden()


def test_swedish_ui(page: Page, webapp: WebApp, rasa_down: FakeRasa) -> None:
    page.goto(webapp.url + "/")
    page.click("a[hreflang='sv']")
    page.wait_for_url(re.compile(r"lang=sv"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("#quick-exit")).to_contain_text("Lämna snabbt")
    send(page, "hej")
    expect(page.locator("#callback")).to_contain_text("barnskyddsanmälan")


@pytest.mark.parametrize("width, height, name", [(1280, 900, "desktop"), (390, 844, "mobile")])
def test_chat_accessibility_axe(axe_context: BrowserContext, webapp: WebApp, rasa_down: FakeRasa, axe_path: Path,
                                width: int, height: int, name: str) -> None:
    page = axe_context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(webapp.url + "/")
    assert axe_violations(page, axe_path) == []
    # Again with a conversation and the contact-request form (with its error messages) on the page.
    send(page, "tarvitsen apua")
    expect(page.locator("#callback")).to_be_visible()
    page.click("#callback-form button[type=submit]")
    expect(page.locator("#err-consent")).to_be_visible()
    assert axe_violations(page, axe_path) == []
    # Nothing sideways on a phone: the page fits its width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_mobile_layout_keeps_quick_exit_visible(page: Page, webapp: WebApp, rasa_up: FakeRasa) -> None:
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(webapp.url + "/")
    for _ in range(6):
        send(page, "nappi")
    expect(page.locator(".msg")).to_have_count(12)
    page.mouse.wheel(0, 5000)
    expect(page.locator("#quick-exit")).to_be_in_viewport()
    box = page.locator("#quick-exit").bounding_box()
    assert box and box["height"] >= 44, "touch target of at least 44 px"
