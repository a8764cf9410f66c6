"""The language of each message (S10, core/language.py): detection, the conversation's memory, the gateway and
Rasa's component. The thresholds were chosen on these sentences and the training data, never on held-out sets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core import language


@pytest.mark.parametrize("text,expected", [
    ("missä on lähin perhekahvila, lapsi on kaksi", "fi"),
    ("finns det något familjecafé i Uleåborg", "sv"),
    ("min man slår mig", "sv"),
    ("is there a family cafe near Tampere", "en"),
    ("I don't want to be alive anymore", "en"),
    ("mä en jaksa enää tätä arkea", "fi"),
])
def test_a_plain_sentence_sets_the_language_whatever_came_before(text: str, expected: str) -> None:
    for previous in (None, "fi", "sv", "en"):
        assert language.choose(text, previous=previous, page="fi") == expected


@pytest.mark.parametrize("word", ["ja", "ok", "nej", "no", "hej", "tack", "kiitos", "Oulu", "Uleåborg", "joo", "yes"])
@pytest.mark.parametrize("previous", ["fi", "sv", "en"])
def test_one_word_never_flips_a_conversation(word: str, previous: str) -> None:
    assert language.choose(word, previous=previous, page="fi") == previous


@pytest.mark.parametrize("text", ["040 123 4567", "🙂", "...", "ok", "112"])
def test_a_new_conversation_without_words_to_read_takes_the_page_language(text: str) -> None:
    assert language.choose(text, previous=None, page="sv") == "sv"
    assert language.choose(text, previous=None, page=None) == "fi"


def test_a_safety_pattern_language_decides_when_the_detector_is_unsure() -> None:
    assert language.choose("ok", previous="fi", pattern_language="sv") == "sv"
    assert language.choose("ok", previous="fi", pattern_language="xx") == "fi"


def test_numbers_links_and_addresses_are_not_read_as_language() -> None:
    found = language.detect("soita 040 123 4567 tai kirjoita foo@example.org https://example.org")
    assert found.words == 3 and found.language == "fi"


def test_only_the_three_languages_are_served() -> None:
    assert [language.normalise_language(v) for v in ("fi", "sv", "en", "de", "", None, 3)] == [
        "fi", "sv", "en", None, None, None, None]


# --- Rasa's component: the gateway's decision wins; without one only a sure detection is passed on -------------

def _language_entity(text: str, metadata: dict[str, Any] | None = None) -> str | None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_ext.components.danger import LANGUAGE_ENTITY, DangerOverride

    data: dict[str, Any] = {"text": text, "intent": {"name": "greet", "confidence": 0.9}}
    if metadata is not None:
        data["metadata"] = metadata
    message = Message(data=data)
    DangerOverride().process([message])
    values = [e["value"] for e in message.get("entities") or [] if e["entity"] == LANGUAGE_ENTITY]
    assert len(values) <= 1
    return values[0] if values else None


def test_the_component_follows_the_gateways_language() -> None:
    assert _language_entity("ok", {"language": "sv"}) == "sv"
    assert _language_entity("hyvää päivää kaikille teille", {"language": "en"}) == "en"


def test_the_component_alone_names_only_a_sure_language() -> None:
    assert _language_entity("finns det något familjecafé i Uleåborg") == "sv"
    assert _language_entity("ok") is None
    assert _language_entity("ok", {"language": "xx"}) is None


# --- the gateway: one decision per message, remembered for the conversation and handed to Rasa -----------------

async def _conversation(messages: list[tuple[str, str | None]], rasa_up: bool = True) -> tuple[
        list[str | None], list[dict[str, Any]]]:
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from stack import free_port

    from bot.web.gateway import Gateway

    seen: list[str | None] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((body.get("metadata") or {}).get("language"))
        return web.json_response([{"text": "Vastaus."}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = TestServer(app)
    await server.start_server()
    url = str(server.make_url("")) if rasa_up else f"http://127.0.0.1:{free_port()}"
    gateway = Gateway(url, timeout_seconds=5)
    session = uuid.uuid4().hex
    bodies = []
    try:
        for text, page in messages:
            bodies.append((await gateway.handle(session, text, None, page))[1])
    finally:
        await gateway.close()
        await server.close()
    return seen, bodies


async def test_the_gateway_hands_rasa_the_conversations_language() -> None:
    seen, _ = await _conversation([
        ("hej", "sv"),                                     # new conversation, unsure: the page's
        ("finns det familjecafé i Uleåborg", "fi"),        # plain Swedish on a Finnish page
        ("ok", "fi"),                                      # one word: still Swedish
        ("actually can you answer in English please", "fi"),
        ("kiitos", "fi"),
    ])
    assert seen == ["sv", "sv", "sv", "en", "en"]


async def test_when_rasa_is_down_the_safe_reply_is_in_the_persons_language() -> None:
    _, bodies = await _conversation([("min man slår mig och jag är rädd", "fi")], rasa_up=False)
    first = bodies[0]["messages"][0]["text"]
    assert "112" in first and "Nollinjen" in first
    _, bodies = await _conversation([("my husband hits me and I am scared", "sv")], rasa_up=False)
    assert "If you are in danger now" in bodies[0]["messages"][0]["text"]


async def test_a_message_too_long_to_pass_on_still_gets_the_safety_lead_first() -> None:
    """S1, S2: the triage reads a too-long message, and its lead comes before the request to write less."""
    from bot.safety.texts import safety_text
    from bot.web.gateway import MAX_MESSAGE_CHARS, Gateway

    gateway = Gateway("http://127.0.0.1:9", timeout_seconds=1)
    try:
        long_danger = "min man slår mig och jag är rädd för honom. " * 60
        status, body = await gateway.handle(uuid.uuid4().hex, long_danger, None, "fi")
        assert status == 413 and len(long_danger) > MAX_MESSAGE_CHARS
        assert [m["text"] for m in body["messages"]] == [
            safety_text("emergency_lead", "sv"), safety_text("too_long", "sv", limit=MAX_MESSAGE_CHARS)]
        status, body = await gateway.handle(uuid.uuid4().hex, "a" * 3000, None, "fi")
        assert [m["text"] for m in body["messages"]] == [safety_text("too_long", "fi", limit=MAX_MESSAGE_CHARS)]
        assert body["messages"][0]["text"].startswith("Jos olet vaarassa, soita 112.")
    finally:
        await gateway.close()
