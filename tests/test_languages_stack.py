"""Swedish and English end to end through the running stack and the web gateway (issue 16, S10).

The three main paths, the danger and crisis replies and a contact request, each in Swedish and English, as the chat
page sends them (its `lang` and the typed text); a one-word reply keeps the language and a plain sentence switches
it. Texts are compared with actions/data/texts.<lang>.yml and bot/safety/data/safety.yml, not copied here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from functools import lru_cache
from typing import Any

import pytest
import yaml
from stack import REPO, Stack

from core import language

pytestmark = pytest.mark.model


@lru_cache(maxsize=4)
def _texts(lang: str) -> dict[str, Any]:
    name = "texts.yml" if lang == "fi" else f"texts.{lang}.yml"
    data: dict[str, Any] = yaml.safe_load((REPO / "actions" / "data" / name).read_text(encoding="utf-8"))
    return data


def _text(lang: str, path: str) -> str:
    node: Any = _texts(lang)
    for part in path.split("."):
        node = node[part]
    return str(node)


def _prefix(lang: str, path: str) -> str:
    """The longest fixed part of a text between its placeholders ("löysin nämä kohtaamispaikat.")."""
    parts = [part.strip() for chunk in _text(lang, path).split("{") for part in chunk.split("}")[-1:]]
    return max(parts, key=len)


class Conversation:
    """One chat session through /api/chat, pressing only buttons the bot offered."""

    def __init__(self, stack: Stack, page: str) -> None:
        self.stack, self.page, self.session = stack, page, uuid.uuid4().hex
        self.replies: list[dict[str, Any]] = []

    def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        request = urllib.request.Request(f"{self.stack.web_url}/api/chat",
                                         data=json.dumps({"session": self.session, "lang": self.page, **body}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                self.replies = json.loads(resp.read())["messages"]
        except urllib.error.HTTPError as error:
            raise AssertionError(f"HTTP {error.code}: {error.read()[:300]!r}") from None
        return self.replies

    def say(self, text: str) -> str:
        return _joined(self._post({"message": text}))

    def press(self, payload_start: str) -> str:
        offered = [str(b["payload"]) for r in self.replies for b in r.get("buttons") or []]
        chosen = [p for p in offered if p.startswith(payload_start)]
        assert chosen, f"no button {payload_start!r} among {offered}"
        return _joined(self._post({"payload": chosen[0]}))


def _joined(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def _callbacks(stack: Stack) -> list[dict[str, Any]]:
    out = subprocess.run([sys.executable, "-m", "bot", "callbacks", "list", "--json"], cwd=REPO, env=stack.env,
                         capture_output=True, text=True, check=True)
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def _is_in(lang: str, text: str) -> bool:
    return language.detect(text).language == lang


@pytest.mark.parametrize("lang,message", [
    ("sv", "finns det något familjecafé i Uleåborg där man kan gå med en ettåring"),
    ("en", "is there a family cafe in Oulu where I could go with my one year old"),
])
def test_meeting_places_are_listed_in_the_persons_language(shared_stack: Stack, lang: str, message: str) -> None:
    chat = Conversation(shared_stack, "fi")  # a Finnish page: the message decides
    shown = chat.say(message)
    if _prefix(lang, "ask.age") in shown:  # the bot may still ask the child's age
        shown = chat.say("1")
    assert _prefix(lang, "places.local") in shown, shown
    assert _prefix("fi", "places.local") not in shown


@pytest.mark.parametrize("lang,message", [
    ("sv", "vi håller på att skiljas och jag skulle behöva prata med någon om det"),
    ("en", "we are getting divorced and I would need someone to talk to about it"),
])
def test_separation_help_answers_in_the_persons_language(shared_stack: Stack, lang: str, message: str) -> None:
    chat = Conversation(shared_stack, lang)
    shown = chat.say(message)
    if "/deny" in [b["payload"] for r in chat.replies for b in r.get("buttons") or []]:
        shown = chat.press("/deny")  # the municipality may be left untold
    # The bot's own first sentence; the catalogue's service texts may be Finnish only (with a note saying so).
    intro = str(chat.replies[0].get("text") or "")
    assert _is_in(lang, intro), shown
    assert _prefix(lang, "record.only_finnish") in shown or _is_in(lang, shown)
    assert "/request_callback" in [b["payload"] for r in chat.replies for b in r.get("buttons") or []]


@pytest.mark.parametrize("lang,message,key", [
    ("sv", "min man slår mig och jag är rädd för honom", "emergency_lead"),
    ("en", "my husband hits me and I am scared of him", "emergency_lead"),
    ("sv", "jag orkar inte leva längre", "crisis_lead"),
    ("en", "I don't want to live anymore", "crisis_lead"),
])
def test_danger_and_crisis_lead_in_the_persons_language(shared_stack: Stack, lang: str, message: str,
                                                        key: str) -> None:
    from bot.safety.texts import safety_text

    chat = Conversation(shared_stack, "fi")
    chat.say(message)
    first = " ".join(str(chat.replies[0].get("text") or "").split())
    assert first == " ".join(safety_text(key, lang).split())


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_contact_request_asked_in_swedish_or_english_is_stored_with_its_language(shared_stack: Stack,
                                                                                   lang: str) -> None:
    chat = Conversation(shared_stack, lang)
    phone = "040 222 3344" if lang == "sv" else "040 222 3355"  # fictional
    asked = chat.say("jag vill att någon ringer mig" if lang == "sv" else "I would like someone to call me")
    assert _is_in(lang, asked), asked
    chat.press('/inform{"cb_topic": "eroauttaminen"')
    chat.press('/inform{"contact_method": "call"')
    notice = chat.press('/inform{"time_window": "morning"')
    assert _is_in(lang, notice) and "112" in notice  # informed consent needs a notice the person can read
    chat.press("/affirm")
    chat.press("/deny")  # no name
    done = chat.say(phone)
    assert _is_in(lang, done), done
    rows = [r for r in _callbacks(shared_stack) if r["phone"] == "+358" + phone.replace(" ", "")[1:]]
    assert len(rows) == 1 and rows[0]["language"] == lang


def test_one_word_keeps_the_language_and_a_sentence_switches_it(shared_stack: Stack) -> None:
    chat = Conversation(shared_stack, "fi")
    chat.say("hej, jag skulle vilja veta vad en familjecentral är")
    assert _is_in("sv", _joined(chat.replies))
    assert _is_in("sv", chat.say("ok tack"))
    assert _is_in("en", chat.say("sorry, could you answer in English, what does a family centre do"))
