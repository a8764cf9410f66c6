"""Real action replies in Swedish and English (S10): the conversation's reply_language picks the texts, days and
times read in that language, payloads stay the Finnish commands, and no Finnish template words are left.

Catalogue data (service names, descriptions, hours) is Finnish in the sample catalogue and is not checked here.
"""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from action_fixtures import make_tracker, run
from sqlalchemy.orm import Session, sessionmaker

from actions.actions import ActionShowServices
from actions.callback_steps import ActionAskCbConsent, ActionAskCbUrgency, ActionSubmitCallback
from actions.parsing import load_yaml
from core.sealed import seal

PHONE_TEXT = "040 123 4567"  # fictional
FRIDAY_NIGHT = "2026-11-27T23:00:00+02:00"
TUESDAY_EVENING = "2026-11-24T20:00:00+02:00"
VIOLENCE_SMS = {"cb_topic": "lahisuhdevakivalta", "cb_contact_method": "sms", "cb_time_window": "morning",
                "cb_leave_message": False, "cb_consent": True, "cb_alias": seal("Maija"), "cb_phone": "given"}

# Finnish words of the action texts that never belong in a Swedish or English reply (the catalogue's own text
# aside): days, times and the labels of a service block.
FINNISH_WORDS = ["klo", "tänään", "huomenna", "maanantaina", "tiistaina", "keskiviikkona", "torstaina",
                 "perjantaina", "lauantaina", "sunnuntaina", "Osoite", "Aukioloajat", "Kielet", "Kenelle", "Puhelin",
                 "Nyt auki", "Nyt kiinni", "vuotiaat", "Esimerkkitieto", "suomi", "ruotsi", "englanti", "somaliksi"]


def _finnish_fragments() -> list[str]:
    """The literal pieces of every Finnish action text with at least two words ("Pyyntösi on tallennettu")."""
    pieces: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("payload", "notice_version", "safe_time_labels"):
                    walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, path)
        elif isinstance(node, str):
            for literal, *_ in string.Formatter().parse(node):
                for sentence in re.split(r"(?<=[.:?!])\s+", " ".join(literal.split())):
                    if len(re.findall(r"\w+", sentence)) >= 2:
                        pieces.append(sentence.strip())

    walk(load_yaml("texts.yml"), "")
    return pieces


FRAGMENTS = _finnish_fragments()


def assert_not_finnish(text: str) -> None:
    for word in FINNISH_WORDS:
        assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text), (word, text)
    for fragment in FRAGMENTS:
        assert fragment not in text, (fragment, text)


def _titles(messages: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def test_the_finnish_fragments_are_found() -> None:
    assert "Pyyntösi on tallennettu." in FRAGMENTS and len(FRAGMENTS) > 150


# --- the contact request ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, said", [
    ("sv", ["Tack, Maija! Din begäran har sparats.", "skickar dig ett sms inom 1–3 vardagar, senast onsdag 2.12., "
            "om möjligt på förmiddagen (kl. 8–12).", "slutar på 67", "\"Perhekeskus\" (familjecentret)",
            "lämnar medarbetaren inget meddelande", "Familjecentret är stängt nu", "ring 112"]),
    ("en", ["Thank you, Maija! Your request has been saved.", "send you a text message within 1–3 working days, "
            "by Wednesday 2 December at the latest, in the morning (8:00–12:00) if possible.", "ending in 67",
            "“Perhekeskus” (family centre)", "will not leave a message", "The family centre is closed now",
            "call 112"]),
])
async def test_the_stored_request_is_confirmed_in_the_conversation_s_language(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, language: str, said: list[str]) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    outcome = await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform",
                                                              slots={**VIOLENCE_SMS, "reply_language": language}))
    for part in said:
        assert part in outcome.text, part
    assert_not_finnish(outcome.text)
    assert outcome.payloads == ["/cancel"] and _titles(outcome.messages) == [
        {"sv": "Något annat", "en": "Something else"}[language]]


@pytest.mark.parametrize("language, day", [
    ("sv", "De är tillbaka i morgon, onsdag 25.11., kl. 8.00."),
    ("en", "They will be back tomorrow, Wednesday 25 November, at 8:00."),
    ("fi", "He ovat taas paikalla huomenna keskiviikkona 25.11. klo 8.00."),
])
async def test_after_hours_the_return_of_staff_is_said_in_the_language(
        monkeypatch: pytest.MonkeyPatch, language: str, day: str) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", TUESDAY_EVENING)
    outcome = await run(ActionAskCbUrgency(), make_tracker("x", "request_callback",
                                                           slots={"reply_language": language}))
    assert "112" in outcome.text.split(".")[0]  # S2: 112 in the first sentence, before the question
    assert day in " ".join(outcome.text.split())
    assert outcome.payloads == ['/inform{"urgency": "urgent"}', '/inform{"urgency": "later"}']
    if language != "fi":
        assert_not_finnish(outcome.text)


@pytest.mark.parametrize("language, duty, titles", [
    ("sv", "barnskyddsanmälan", ["Ja, jag godkänner", "Jag godkänner inte"]),
    ("en", "child welfare notification", ["Yes, I agree", "No, I don't agree"]),
])
async def test_the_privacy_notice_is_in_the_language(language: str, duty: str, titles: list[str]) -> None:
    """S3: what is stored, who sees it, how long, the reporting duty and "not for emergencies", in the language."""
    outcome = await run(ActionAskCbConsent(), make_tracker("x", "request_callback", slots={"reply_language": language}))
    assert duty in outcome.text and "30" in outcome.text and "112" in outcome.text
    assert _titles(outcome.messages) == titles and outcome.payloads == ["/affirm", "/deny"]
    assert_not_finnish(outcome.text)


# --- the services list ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, said", [
    ("sv", ["Du kan kontakta rådgivningen", "Rådgivningen nära dig:", "Adress: Tuirantie 5",
            "Öppet nu till kl. 16.00.", "Öppettider: ", "Språk: finska", "Telefon 08 0100 5100",
            "(Exempeluppgift, inte en riktig tjänst.)", "Om du är orolig för barnets eller din egen hälsa"]),
    ("en", ["You can contact the maternity and child health clinic (neuvola)", "Neuvola near you:",
            "Address: Tuirantie 5", "Open now until 16:00.", "Opening hours: ", "Languages: Finnish",
            "Phone 08 0100 5100", "(Example data, not a real service.)", "If you are worried about your child's"]),
])
async def test_services_are_listed_in_the_conversation_s_language(sessions: sessionmaker[Session], language: str,
                                                                   said: list[str]) -> None:
    slots = {"service_need": "neuvola", "municipality": "Oulu"}
    finnish = await run(ActionShowServices(), make_tracker(slots=slots))
    outcome = await run(ActionShowServices(), make_tracker(slots={**slots, "reply_language": language}))
    for part in said:
        assert part in outcome.text, part
    assert_not_finnish(outcome.text)
    assert outcome.payloads == finnish.payloads and "/request_callback" in outcome.payloads
    assert not set(_titles(outcome.messages)) & set(_titles(finnish.messages))


@pytest.mark.parametrize("language, said", [
    ("sv", ["Jag hittade inget ställe med service på somaliska, så jag visar alla ställen.", "Mötesplatser i Uleåborg:",
            "Stängt nu. Öppnar torsdag 26.11. kl. 9.30.", "Språk: finska, engelska"]),
    ("en", ["I found no place with services in Somali, so I'm showing all places.", "Meeting places in Oulu:",
            "Closed now. Opens Thursday 26 November at 9:30.", "Languages: Finnish, English"]),
])
async def test_meeting_places_with_days_and_languages_in_the_language(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, language: str, said: list[str]) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", TUESDAY_EVENING)
    outcome = await run(ActionShowServices(), make_tracker(slots={
        "service_need": "kohtaamispaikka", "municipality": "Oulu", "language": "somali", "reply_language": language}))
    for part in said:
        assert part in outcome.text, part
    assert_not_finnish(outcome.text)
    assert "/ask_opening_hours" in outcome.payloads


async def test_an_unknown_language_falls_back_to_finnish(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "neuvola", "municipality": "Oulu",
                                                                  "reply_language": "xx"}))
    assert "Neuvola lähelläsi:" in outcome.text and "Kielet: suomi" in outcome.text


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_service_with_only_finnish_details_says_so(lang: str) -> None:
    """PTV may lack a service's Swedish or English texts: the Finnish ones are shown with a note (issue 16)."""
    import dataclasses
    from datetime import datetime

    from actions.language import REPLY_LANGUAGE
    from actions.render import render_record, text
    from catalog.records import ServiceRecord

    fields = {f.name: None for f in dataclasses.fields(ServiceRecord)}
    fields.update(channel_id="c1", channel_name="Perhekahvila Pilvi", kind="ServiceLocation", scope="local",
                  match="local", phones=(), languages=(), topics=(), hours_notes=(), source="ptv",
                  is_example=False, display_language=lang, text_language="fi", fallback_fields=("channel_name",))
    now = datetime.fromisoformat(TUESDAY_EVENING)
    token = REPLY_LANGUAGE.set(lang)
    try:
        note = text("record.only_finnish")
        assert note in render_record(ServiceRecord(**fields), now)
        translated = {**fields, "text_language": lang, "fallback_fields": ()}
        assert note not in render_record(ServiceRecord(**translated), now)
    finally:
        REPLY_LANGUAGE.reset(token)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_emergency_numbers_just_given_are_recognised_in_every_language(lang: str) -> None:
    """Not repeated on the next turn (S2 keeps them first, not twice), whatever the language named Nollalinja."""
    from action_fixtures import make_tracker as tracker_with

    from actions.actions import emergency_just_given
    from bot.safety.texts import safety_text

    said = [{"event": "user", "text": "x"}, {"event": "bot", "text": safety_text("emergency_lead", lang)}]
    assert emergency_just_given(tracker_with("Oulu", "inform", history=said))
    assert not emergency_just_given(tracker_with("Oulu", "inform", history=[{"event": "bot", "text": "Hei!"}]))
