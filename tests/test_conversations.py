"""Whole conversations through the running stack (actions + Rasa, REST channel): the three guided paths, the
contact request and after-hours triage at fixed PERHEOPAS_NOW moments. The dialogue policies are also checked
against the test stories in tests/stories (`rasa test core --fail-on-prediction-errors`).

The parts are shared with the family and triage modules (tests/conftest.py `shared_parts`); only the action server
is restarted to move the clock (Rasa itself never reads it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from parts import Parts
from stack import MODEL, REPO

pytestmark = [pytest.mark.slow, pytest.mark.model]

OFFICE_OPEN = "2026-11-24T13:00:00+02:00"   # Tuesday afternoon
FRIDAY_NIGHT = "2026-11-27T23:00:00+02:00"
CHRISTMAS_EVE = "2026-12-24T10:00:00+02:00"  # a Thursday morning, closed for the holiday
MIDSUMMER_EVE = "2027-06-25T10:00:00+03:00"  # a Friday morning, closed for the holiday
PHONE_TYPED = "040 123 4567"  # fictional
PHONE_E164 = "+358401234567"


class Chat:
    """The running parts, whose action server is restarted to move its clock."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    @property
    def now(self) -> str:
        """The clock the action server runs with (other modules share the parts and move it too)."""
        return self.parts.actions.env["PERHEOPAS_NOW"]

    def at(self, now: str) -> Chat:
        if now != self.now or not self.parts.actions.alive():
            self.parts.restart("actions", {"PERHEOPAS_NOW": now})
        return self

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        return self.parts.say(sender, message)

    def callbacks(self) -> list[dict[str, Any]]:
        """Contract 6: `python -m bot callbacks list --json`."""
        out = subprocess.run([sys.executable, "-m", "bot", "callbacks", "list", "--json"], cwd=REPO,
                             env=self.parts.env, capture_output=True, text=True, check=True)
        rows: list[dict[str, Any]] = json.loads(out.stdout)
        return rows

    def stored_events(self, sender: str) -> list[dict[str, Any]]:
        """The conversation as Rasa's tracker store wrote it."""
        path = Path(self.parts.env["PERHEOPAS_TRACKER_DB"])
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
        return [json.loads(row[0]) for row in rows]


@pytest.fixture
def chat(shared_parts: Parts) -> Chat:
    """The shared parts (tests/conftest.py), with a running action server; each test sets its clock with `at`."""
    chat = Chat(shared_parts)
    return chat.at(chat.now)


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [str(b.get("payload")) for r in replies for b in r.get("buttons") or []]


def catalogue(env: dict[str, str], topic: str, municipality: str | None) -> list[dict[str, Any]]:
    """What `python -m catalog search` says, so the tests name services from the catalogue, not from memory."""
    argv = [sys.executable, "-m", "catalog", "search", "--topic", topic, "--json"]
    if municipality:
        argv += ["--municipality", municipality]
    out = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    return data if isinstance(data, list) else data.get("results", [])


# --- the three paths (office hours) ------------------------------------------------------------------------------

def test_kohtaamispaikka_asks_only_the_municipality_then_lists_places(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    first = chat.say("kp-path", "etsin perhekahvilaa")
    assert "kunnasta" in texts(first)
    reply = chat.say("kp-path", "Oulussa")
    places = [r for r in catalogue(chat.parts.env, "kohtaamispaikka", "Oulu") if r["match"] in ("local", "regional")]
    assert places and places[0]["channel_name"] in texts(reply)
    assert "Aukioloajat:" in texts(reply) and "Kielet:" in texts(reply)
    assert {"/ask_opening_hours", "/cancel"} <= set(payloads(reply))
    hours = chat.say("kp-path", "/ask_opening_hours")
    assert texts(hours).startswith("Aukioloajat:")


def test_kohtaamispaikka_none_in_municipality_offers_the_wellbeing_area(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    reply = texts(chat.say("kp-none", "/find_kohtaamispaikka"))
    assert "kunnasta" in reply
    reply = texts(chat.say("kp-none", "Tyrnävä"))
    assert "Tyrnävä: en löytänyt" in reply
    assert "samalla hyvinvointialueella" in reply


def test_eroauttaminen_agreements_lead_to_lastenvalvoja_and_sovittelu(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    chat.say("ero-path", "miten sovitaan lasten asumisesta ja tapaamisista eron jälkeen")
    reply = chat.say("ero-path", "Tampere")
    shown = texts(reply)
    expected = [r["channel_name"] for topic in ("lastenvalvoja", "sovittelu")
                for r in catalogue(chat.parts.env, topic, "Tampere") if r["match"] in ("local", "regional")]
    assert expected and expected[0] in shown
    assert "/request_callback" in payloads(reply)


def test_eroauttaminen_anonymous_chat_needs_no_municipality(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    reply = texts(chat.say("ero-chat", "/ero_anonymous_chat"))
    national = catalogue(chat.parts.env, "anonyymi_chat", None)
    assert national and national[0]["channel_name"] in reply


def test_lahisuhdevakivalta_emergency_first_then_options_then_shelter(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    reply = chat.say("vv-path", "mieheni lyö minua")
    first = str(reply[0].get("text", ""))
    assert "112" in first and "080 005 005" in first
    assert '/inform{"need": "vv_shelter"}' in payloads(reply)
    assert "Poistu nopeasti" in texts(reply) and "historia" in texts(reply)
    assert "kunnasta" not in texts(reply)  # no identifying question before the help (S2)
    ask = chat.say("vv-path", '/inform{"need": "vv_shelter"}')
    assert "/deny" in payloads(ask)  # the municipality may be left untold
    shelters = texts(chat.say("vv-path", "Oulu"))
    expected = [r["channel_name"] for r in catalogue(chat.parts.env, "turvakoti", "Oulu") if r["match"] != "national"]
    assert expected and expected[0] in shelters


@pytest.mark.parametrize("message", ["/violence_shelter", "/violence_perpetrator_help", "/violence_child_witnessed",
                                     "/violence_control", "/violence_danger_now"])
def test_every_violence_intent_leads_with_emergency(chat: Chat, message: str) -> None:
    chat.at(OFFICE_OPEN)
    reply = chat.say(f"vv-first-{message[1:]}", message)
    first = str(reply[0].get("text", ""))
    assert "112" in first and "080 005 005" in first


def test_greeting_and_fallback(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    assert "automaattinen" in texts(chat.say("basics", "/greet"))
    first = texts(chat.say("basics", "qwerty zxcv asdf"))
    second = chat.say("basics", "qwerty zxcv asdf")
    assert first and texts(second)
    assert "/request_callback" in payloads(second)


# --- contact request ---------------------------------------------------------------------------------------------

def test_contact_request_is_stored_with_consent_and_no_number_stays_in_the_tracker(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    sender = "contact-1"
    assert "Mistä asiasta" in texts(chat.say(sender, "/request_callback"))
    assert "Soitetaanko" in texts(chat.say(sender, '/inform{"cb_topic": "eroauttaminen"}'))
    assert "Mihin aikaan" in texts(chat.say(sender, '/inform{"contact_method": "call"}'))
    notice = texts(chat.say(sender, '/inform{"time_window": "morning"}'))
    assert "30 päivän" in notice and "lastensuojeluilmoitus" in notice and "112" in notice
    assert "nimellä" in texts(chat.say(sender, "/affirm"))
    assert "numeroon" in texts(chat.say(sender, "/deny"))
    done = texts(chat.say(sender, PHONE_TYPED))
    assert "tallennettu" in done and "1–3 arkipäivän kuluessa, viimeistään perjantaina 27.11." in done
    assert PHONE_TYPED not in done and PHONE_E164 not in done

    rows = [r for r in chat.callbacks() if r["phone"] == PHONE_E164 and r["topic"] == "eroauttaminen"]
    assert len(rows) == 1
    assert rows[0]["consent_at"] and rows[0]["consent_notice_version"].startswith("chat-")
    assert rows[0]["callback_due"] == "2026-11-25"

    events = chat.stored_events(sender)
    stored = json.dumps(events, ensure_ascii=False)
    assert "123 4567" not in stored and "1234567" not in stored
    last_slots: dict[str, Any] = {}
    for event in events:
        if event.get("event") == "slot":
            last_slots[event["name"]] = event["value"]
    assert last_slots.get("cb_phone") is None and last_slots.get("cb_consent") is None


@pytest.mark.parametrize("alias", ["A", "Ti", "Ion", "Ali"])
def test_a_short_alias_is_stored_and_the_conversation_goes_on(chat: Chat, alias: str) -> None:
    """An alias used to be cut out of slot names and words ("cb_[nimi]li[nimi]s"), and no request was stored."""
    chat.at(OFFICE_OPEN)
    sender = f"alias-{alias}"
    chat.say(sender, "/request_callback")
    chat.say(sender, '/inform{"cb_topic": "eroauttaminen"}')
    chat.say(sender, '/inform{"contact_method": "call"}')
    chat.say(sender, '/inform{"time_window": "morning"}')
    assert "nimellä" in texts(chat.say(sender, "/affirm"))
    asked = texts(chat.say(sender, alias))
    assert "Mihin numeroon" in asked and "[nimi]" not in asked
    done = texts(chat.say(sender, "040 765 4321"))
    assert f"Kiitos, {alias}!" in done and "tallennettu" in done  # the alias came through the tracker sealed
    rows = [r for r in chat.callbacks() if r["phone"] == "+358407654321" and r.get("alias") == alias]
    assert len(rows) == 1
    stored = json.dumps(chat.stored_events(sender), ensure_ascii=False)
    assert '"cb_alias"' in stored and "cb_[nimi]" not in stored
    assert texts(chat.say(sender, "etsin perhekahvilaa Oulussa"))  # the conversation goes on


def test_a_number_typed_outside_the_form_is_not_taken(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    before = len(chat.callbacks())
    reply = chat.say("phone-outside", "numeroni on 050 765 4321")
    assert "Puhelinnumeroa ei tarvitse" in texts(reply)
    assert "/request_callback" in payloads(reply)
    assert len(chat.callbacks()) == before


def test_contact_request_can_be_cancelled(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    before = len(chat.callbacks())
    chat.say("contact-2", "/request_callback")
    chat.say("contact-2", '/inform{"cb_topic": "muu"}')
    reply = texts(chat.say("contact-2", "/cancel"))
    assert "pyyntöä ei lähetetty" in reply
    assert len(chat.callbacks()) == before


def test_bad_number_is_asked_again(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    sender = "contact-3"
    for message in ("/request_callback", '/inform{"cb_topic": "muu"}', '/inform{"contact_method": "sms"}',
                    '/inform{"time_window": "any"}', "/affirm", "/deny"):
        chat.say(sender, message)
    again = texts(chat.say(sender, "09 123 4567"))
    assert "matkapuhelimeen" in again


# --- after hours -------------------------------------------------------------------------------------------------

# (now, the day staff are back, the queue's first day). A saved request names only the last of the promised
# 1–3 working days (LAST_DAY).
AFTER_HOURS = [
    pytest.param(FRIDAY_NIGHT, "maanantaina 30.11.", "2026-11-30", id="friday-23"),
    pytest.param(CHRISTMAS_EVE, "maanantaina 28.12.", "2026-12-28", id="christmas-eve"),
    pytest.param(MIDSUMMER_EVE, "maanantaina 28.6.", "2027-06-28", id="midsummer-eve"),
]
LAST_DAY = {"2026-11-30": "viimeistään keskiviikkona 2.12.", "2026-12-28": "viimeistään keskiviikkona 30.12.",
            "2027-06-28": "viimeistään keskiviikkona 30.6."}


@pytest.mark.parametrize("now, day, due", AFTER_HOURS)
def test_after_hours_urgent_gets_24_7_services(chat: Chat, now: str, day: str, due: str) -> None:
    chat.at(now)
    sender = f"urgent-{due}"
    ask = chat.say(sender, "/request_callback")
    assert day in texts(ask) and "112" in texts(ask)
    assert '/inform{"urgency": "urgent"}' in payloads(ask)
    chat.say(sender, '/inform{"urgency": "urgent"}')
    reply = chat.say(sender, "Oulu")
    first = str(reply[0].get("text", ""))
    assert "112" in first and "080 005 005" in first
    regional = [r["channel_name"] for r in catalogue(chat.parts.env, "sosiaalipaivystys", "Oulu")
                if r["match"] != "national"]
    assert regional and regional[0] in texts(reply)


def test_after_hours_typed_danger_gets_emergency_once(chat: Chat) -> None:
    chat.at(FRIDAY_NIGHT)
    sender = "urgent-typed"
    chat.say(sender, "/request_callback")
    reply = chat.say(sender, "tarvitsen apua nyt")
    first = str(reply[0].get("text", ""))
    assert "112" in first and "080 005 005" in first
    help_now = texts(chat.say(sender, "Oulu"))
    assert "kellon ympäri" in help_now
    assert "Nollalinja 080 005 005 auttaa" not in help_now  # not repeated right after


@pytest.mark.parametrize("now, day, due", AFTER_HOURS)
def test_after_hours_non_urgent_is_queued_with_the_named_day(chat: Chat, now: str, day: str, due: str) -> None:
    chat.at(now)
    sender = f"later-{due}"
    phone = {"2026-11-30": "050 765 4321", "2026-12-28": "044 987 6543", "2027-06-28": "045 246 8135"}[due]
    for message in ("/request_callback", '/inform{"urgency": "later"}', '/inform{"cb_topic": "kohtaamispaikka"}',
                    '/inform{"contact_method": "call"}', '/inform{"time_window": "afternoon"}', "/affirm", "/deny"):
        chat.say(sender, message)
    done = texts(chat.say(sender, phone))
    assert LAST_DAY[due] in done and "kiinni" in done
    digits = "+358" + phone.replace(" ", "")[1:]
    [row] = [r for r in chat.callbacks() if r["phone"] == digits]
    assert row["callback_due"] == due and row["urgent"] is False


# --- dialogue policies against the test stories --------------------------------------------------------------------

def test_dialogue_follows_the_test_stories(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; `make test` trains it first")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "TQDM_DISABLE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.rasa_ext", "test", "core", "--stories", "tests/stories", "--model", str(MODEL),
         "--fail-on-prediction-errors", "--out", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )
    failed = (tmp_path / "failed_test_stories.yml")
    detail = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, detail
