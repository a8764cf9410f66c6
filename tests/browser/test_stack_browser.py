"""The chat in a real browser against the whole stack (actions, Rasa with the trained model, web app)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import axe_violations, screenshot_dir
from playwright.sync_api import Browser, BrowserContext, Page, expect
from stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.model]

# A weekday afternoon, so opening-hours text in the answers is deterministic.
STACK_NOW = "2026-11-24T13:00:00+02:00"


@pytest.fixture(scope="module")
def stack(shared_stack: Stack) -> Stack:
    assert shared_stack.env["PERHEOPAS_NOW"] == STACK_NOW
    return shared_stack


def converse(page: Page, text: str, replies_before: int) -> None:
    page.fill("#message", text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg.bot")).not_to_have_count(replies_before, timeout=60_000)
    expect(page.locator("#typing")).to_be_hidden(timeout=60_000)


def find_kohtaamispaikka(page: Page) -> None:
    """Ask for a family café in Kempele; answer the age question with its button if the bot asks it."""
    converse(page, "onko Kempeleessä perhekahvilaa", page.locator(".msg.bot").count())
    age_button = page.locator(".buttons button", has_text=re.compile("vuotias"))
    if page.locator(".msg.bot", has_text="Kempele").count() == 0 and age_button.count() > 0:
        before = page.locator(".msg.bot").count()
        age_button.first.click()
        expect(page.locator(".msg.bot")).not_to_have_count(before, timeout=60_000)
    expect(page.locator(".msg.bot", has_text="Kempele").first).to_be_visible(timeout=60_000)


def test_round_trip_finds_a_kohtaamispaikka(page: Page, stack: Stack) -> None:
    page.goto(stack.web_url + "/")
    converse(page, "moi", 0)
    expect(page.locator(".msg.bot").first).to_contain_text("automaattinen")
    find_kohtaamispaikka(page)
    # A real catalogue answer: a place with its opening information, not a fallback. The heading naming the
    # municipality and the listing may arrive as separate messages, so look at the last bot message with hours.
    answer = page.locator(".msg.bot", has_text=re.compile(r"auki|Aukioloajat|kiinni", re.IGNORECASE)).last
    expect(answer).to_be_visible(timeout=30_000)
    expect(page.locator(".msg.bot", has_text="Kempele").first).to_be_visible()
    assert page.locator("#callback").is_hidden(), "with Rasa up the chat runs the conversation, not the fallback form"


def test_chat_with_real_answers_passes_axe_and_makes_screenshots(browser: Browser, axe_context: BrowserContext,
                                                                 stack: Stack, axe_path: Path) -> None:
    shots = screenshot_dir()
    for width, height, name in ((1280, 900, "chat-desktop.png"), (390, 844, "chat-mobile.png")):
        page = axe_context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.goto(stack.web_url + "/")
        converse(page, "moi", 0)
        find_kohtaamispaikka(page)
        assert axe_violations(page, axe_path) == []
        if shots:
            page.evaluate("document.activeElement && document.activeElement.blur()")
            if width > 1000:
                page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top of a full-page shot
            page.screenshot(path=str(shots / name), full_page=width > 1000)
        page.close()


def test_danger_message_leads_with_emergency_numbers_in_the_page(page: Page, stack: Stack) -> None:
    page.goto(stack.web_url + "/")
    converse(page, "mun mies lyö mua ja pelkään", 0)
    first = page.locator(".msg.bot").first
    expect(first).to_contain_text("112")
    expect(first).to_contain_text("080 005 005")
    assert first.locator("a[href='tel:112']").count() == 1
    assert re.search(r"Poistu|Esc", page.locator("#quick-exit").inner_text())
