"""The contact request (Pyydä apua) and after-hours triage: consent first, the row before the confirmation,
no phone number left in slots or replies, and the callback day from office hours."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from action_fixtures import make_tracker, run
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions import actions as action_module
from actions.actions import (
    ActionAskCbConsent,
    ActionAskCbPhone,
    ActionAskCbUrgency,
    ActionCancelCallback,
    ActionSubmitCallback,
    ValidateCallbackForm,
)
from bot.models import CallbackRequest

PHONE_TEXT = "040 123 4567"  # fictional
PHONE_E164 = "+358401234567"
FRIDAY_NIGHT = "2026-11-27T23:00:00+02:00"
CHRISTMAS_EVE = "2026-12-24T10:00:00+02:00"
MIDSUMMER_EVE = "2027-06-25T10:00:00+03:00"

FILLED = {"cb_topic": "eroauttaminen", "cb_contact_method": "call", "cb_time_window": "morning",
          "cb_consent": True, "cb_alias": "Maija", "cb_phone": "given"}


def rows(sessions: sessionmaker[Session]) -> list[CallbackRequest]:
    with sessions() as session:
        return list(session.query(CallbackRequest).all())


def assert_forgotten(slots: dict[str, Any]) -> None:
    for name in ("cb_topic", "cb_contact_method", "cb_time_window", "cb_consent", "cb_alias", "cb_phone",
                 "cb_urgency"):
        assert slots[name] is None, name
    assert slots["cb_phone_tries"] == 0


# --- which questions -------------------------------------------------------------------------------------------

async def required(tracker_slots: dict[str, Any], domain: dict[str, Any]) -> list[str]:
    tracker = make_tracker(slots=tracker_slots)
    return await ValidateCallbackForm().required_slots([], CollectingDispatcher(), tracker, domain)


async def test_office_hours_ask_consent_before_personal_data(sessions: sessionmaker[Session],
                                                            domain: dict[str, Any]) -> None:
    order = await required({}, domain)
    assert order == ["cb_topic", "cb_contact_method", "cb_time_window", "cb_consent", "cb_alias", "cb_phone"]
    assert order.index("cb_consent") < order.index("cb_alias") < order.index("cb_phone")


@pytest.mark.parametrize("now", [FRIDAY_NIGHT, CHRISTMAS_EVE, MIDSUMMER_EVE])
async def test_after_hours_asks_urgency_first(sessions: sessionmaker[Session], domain: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch, now: str) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", now)
    assert await required({}, domain) == ["cb_urgency"]
    assert await required({"cb_urgency": "urgent"}, domain) == ["municipality"]
    assert await required({"cb_urgency": "urgent", "municipality": "Oulu"}, domain) == []
    assert (await required({"cb_urgency": "later"}, domain))[0] == "cb_topic"


async def test_declined_consent_or_three_bad_numbers_end_the_form(sessions: sessionmaker[Session],
                                                                  domain: dict[str, Any]) -> None:
    assert await required({"cb_consent": False}, domain) == []
    assert await required({"cb_phone_tries": 3.0}, domain) == []


@pytest.mark.parametrize("now, day, opens", [
    (FRIDAY_NIGHT, "maanantaina 30.11.", "klo 8.00"),
    (CHRISTMAS_EVE, "maanantaina 28.12.", "klo 8.00"),
    (MIDSUMMER_EVE, "maanantaina 28.6.", "klo 8.00"),
])
async def test_urgency_question_names_when_staff_are_back(monkeypatch: pytest.MonkeyPatch, now: str, day: str,
                                                          opens: str) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", now)
    outcome = await run(ActionAskCbUrgency(), make_tracker())
    assert f"{day} {opens}" in outcome.text
    assert '/inform{"urgency": "urgent"}' in outcome.payloads


# --- reading the answers -----------------------------------------------------------------------------------------

def asked(slot: str, text: str, intent: str = "inform", entities: dict[str, str] | None = None,
          **slots: Any) -> Any:
    return make_tracker(text, intent, entities, slots={"requested_slot": slot, **slots})


@pytest.mark.parametrize("tracker, slot, value", [
    (asked("cb_topic", "", entities={"cb_topic": "lahisuhdevakivalta"}), "cb_topic", "lahisuhdevakivalta"),
    (asked("cb_topic", "erotilanne"), "cb_topic", "eroauttaminen"),
    (asked("cb_topic", "lapsen uhmaikä"), "cb_topic", "muu"),
    (asked("cb_contact_method", "", entities={"contact_method": "sms"}), "cb_contact_method", "sms"),
    (asked("cb_contact_method", "tekstiviestillä kiitos"), "cb_contact_method", "sms"),
    (asked("cb_contact_method", "soittakaa"), "cb_contact_method", "call"),
    (asked("cb_time_window", "", entities={"time_window": "afternoon"}), "cb_time_window", "afternoon"),
    (asked("cb_time_window", "aamupäivällä"), "cb_time_window", "morning"),
    (asked("cb_time_window", "ihan sama"), "cb_time_window", "any"),
    (asked("cb_consent", "kyllä hyväksyn", "affirm"), "cb_consent", True),
    (asked("cb_consent", "en hyväksy", "deny"), "cb_consent", False),
    (asked("cb_alias", "Maija"), "cb_alias", "Maija"),
    (asked("cb_alias", "ohita", "deny"), "cb_alias", "-"),
])
async def test_answers_are_read(sessions: sessionmaker[Session], tracker: Any, slot: str, value: Any) -> None:
    assert (await run(ValidateCallbackForm(), tracker)).slots[slot] == value


async def test_topic_is_prefilled_from_the_path(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("haluan puhua jonkun kanssa", "request_callback", slots={"service_need": "ero_child"})
    outcome = await run(ValidateCallbackForm(), tracker)
    assert outcome.slots["cb_topic"] == "eroauttaminen"
    assert outcome.slots["requested_slot"] == "cb_contact_method"


async def test_violence_button_prefills_the_topic(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("", "request_callback", {"cb_topic": "lahisuhdevakivalta"})
    assert (await run(ValidateCallbackForm(), tracker)).slots["cb_topic"] == "lahisuhdevakivalta"


async def test_unclear_answer_is_asked_again(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ValidateCallbackForm(), asked("cb_contact_method", "hmm", "nlu_fallback",
                                                      cb_topic="muu"))
    assert outcome.slots["cb_contact_method"] is None
    assert outcome.slots["requested_slot"] == "cb_contact_method"
    assert outcome.text


async def test_a_valid_number_is_accepted_but_not_kept(sessions: sessionmaker[Session]) -> None:
    tracker = asked("cb_phone", f"numeroni on {PHONE_TEXT}", **{k: v for k, v in FILLED.items() if k != "cb_phone"})
    outcome = await run(ValidateCallbackForm(), tracker)
    assert outcome.slots["cb_phone"] == "given"
    assert outcome.slots["requested_slot"] is None
    assert "4567" not in str(outcome.events)


@pytest.mark.parametrize("typed, method, fragment", [
    ("040 123", "call", "ei näytä oikealta"),
    ("en muista", "call", "En löytänyt viestistäsi puhelinnumeroa"),
    ("+46 70 123 45 67", "call", "suomalaisiin"),
    ("0800 123 456", "call", "emme voi soittaa"),
    ("09 123 4567", "sms", "matkapuhelimeen"),
])
async def test_bad_numbers_get_a_clear_re_ask(sessions: sessionmaker[Session], typed: str, method: str,
                                              fragment: str) -> None:
    slots = {**FILLED, "cb_phone": None, "cb_contact_method": method}
    outcome = await run(ValidateCallbackForm(), asked("cb_phone", typed, "inform", **slots))
    assert fragment in outcome.text
    assert outcome.slots["cb_phone_tries"] == 1
    assert outcome.slots["requested_slot"] == "cb_phone"


async def test_third_bad_number_gives_up(sessions: sessionmaker[Session]) -> None:
    slots = {**FILLED, "cb_phone": None, "cb_phone_tries": 2.0}
    outcome = await run(ValidateCallbackForm(), asked("cb_phone", "123", "inform", **slots))
    assert outcome.slots["cb_phone_tries"] == 3
    assert outcome.slots["requested_slot"] is None


async def test_number_typed_at_the_name_question_is_taken(sessions: sessionmaker[Session]) -> None:
    slots = {**FILLED, "cb_alias": None, "cb_phone": None}
    outcome = await run(ValidateCallbackForm(), asked("cb_alias", PHONE_TEXT, "inform", **slots))
    assert outcome.slots["cb_alias"] == "-" and outcome.slots["cb_phone"] == "given"


@pytest.mark.parametrize("intent", ["cancel", "faq", "bot_challenge", "goodbye"])
async def test_rules_handle_cancel_and_questions(sessions: sessionmaker[Session], intent: str) -> None:
    outcome = await run(ValidateCallbackForm(), asked("cb_time_window", "peruuta", intent, cb_topic="muu",
                                                      cb_contact_method="call"))
    assert [e for e in outcome.events if e["name"] != "requested_slot"] == []


async def test_danger_in_the_form_gets_emergency_first_then_the_question_again(
        sessions: sessionmaker[Session]) -> None:
    outcome = await run(ValidateCallbackForm(), asked("cb_time_window", "hän tulee ja pelkään", "violence_danger_now",
                                                      cb_topic="muu", cb_contact_method="call"))
    assert outcome.responses[0] == "utter_emergency"
    assert outcome.slots["requested_slot"] == "cb_time_window"


async def test_privacy_notice_says_what_who_how_long_duty_and_not_emergency() -> None:
    text = (await run(ActionAskCbConsent(), make_tracker())).text
    for fragment in ("Tallennamme", "näkevät vain", "30 päivän", "lastensuojeluilmoitus", "112"):
        assert fragment in text
    assert PHONE_TEXT not in text


async def test_phone_question_depends_on_contact_method() -> None:
    sms = await run(ActionAskCbPhone(), make_tracker(slots={"cb_contact_method": "sms"}))
    assert "matkapuhelinnumero" in sms.text


# --- submitting --------------------------------------------------------------------------------------------------

async def test_request_is_stored_then_confirmed_and_forgotten(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform",
                                                              slots={**FILLED, "municipality": "Oulu"}))
    [row] = rows(sessions)
    assert row.phone == PHONE_E164
    assert row.topic == "eroauttaminen" and row.contact_method == "call" and row.time_window == "morning"
    assert row.alias == "Maija" and row.municipality == "Oulu"
    assert row.consent_at is not None and row.consent_notice_version.startswith("chat-")
    assert row.callback_due == date(2026, 11, 25)  # Tuesday 13.00 is after the noon cut-off
    assert "keskiviikkona 25.11." in outcome.text
    assert "päättyy 67" in outcome.text
    assert PHONE_TEXT not in outcome.text and PHONE_E164 not in outcome.text
    assert "112" in outcome.text
    assert_forgotten(outcome.slots)


@pytest.mark.parametrize("now, due, day", [
    (FRIDAY_NIGHT, date(2026, 11, 30), "maanantaina 30.11."),
    (CHRISTMAS_EVE, date(2026, 12, 28), "maanantaina 28.12."),
    (MIDSUMMER_EVE, date(2027, 6, 28), "maanantaina 28.6."),
])
async def test_after_hours_request_is_queued_with_the_named_day(sessions: sessionmaker[Session],
                                                                monkeypatch: pytest.MonkeyPatch, now: str,
                                                                due: date, day: str) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", now)
    outcome = await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform",
                                                              slots={**FILLED, "cb_urgency": "later"}))
    [row] = rows(sessions)
    assert row.callback_due == due and row.urgent is False
    assert day in outcome.text and "kiinni" in outcome.text


async def test_urgent_after_hours_request_is_flagged(sessions: sessionmaker[Session],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform",
                                                   slots={**FILLED, "cb_urgency": "urgent_callback"}))
    assert rows(sessions)[0].urgent is True


async def test_sms_confirmation(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionSubmitCallback(), make_tracker("0501234567", "inform",
                                                              slots={**FILLED, "cb_contact_method": "sms"}))
    assert "tekstiviestin" in outcome.text
    assert rows(sessions)[0].phone == "+358501234567"


async def test_urgent_after_hours_gets_24_7_help_and_stores_nothing(sessions: sessionmaker[Session],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from catalog.clock import now as clock_now
    from catalog.query import crisis_services

    monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    outcome = await run(ActionSubmitCallback(), make_tracker("Oulu", "inform",
                                                              slots={"cb_urgency": "urgent", "municipality": "Oulu"}))
    assert outcome.responses[0] == "utter_emergency"
    with sessions() as session:
        regional = [r.channel_name for r in crisis_services(session, "Oulu", now=clock_now()) if r.scope != "national"]
    assert regional and regional[0] in outcome.text
    assert '/request_callback{"urgency": "urgent_callback"}' in outcome.payloads
    assert rows(sessions) == []


async def test_declined_consent_stores_nothing(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionSubmitCallback(), make_tracker("en hyväksy", "deny",
                                                              slots={**FILLED, "cb_consent": False,
                                                                     "cb_phone": None}))
    assert rows(sessions) == []
    assert "en tallentanut mitään" in outcome.text
    assert_forgotten(outcome.slots)


async def test_gave_up_after_three_tries_offers_other_ways(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionSubmitCallback(), make_tracker("123", "inform",
                                                              slots={**FILLED, "cb_phone": None,
                                                                     "cb_phone_tries": 3.0}))
    assert rows(sessions) == []
    assert "112" in outcome.text and "/request_callback" in outcome.payloads
    assert_forgotten(outcome.slots)


async def test_database_failure_is_not_confirmed(sessions: sessionmaker[Session],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("INSERT …", {"phone": PHONE_E164}, Exception("disk I/O error"))

    monkeypatch.setattr(action_module, "create_callback", broken)
    outcome = await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform", slots=FILLED))
    assert "ei valitettavasti voitu tallentaa" in outcome.text
    assert "Kiitos" not in outcome.text
    assert_forgotten(outcome.slots)


async def test_cancel_forgets_everything(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionCancelCallback(), make_tracker("peruuta", "cancel", slots=FILLED))
    assert "pyyntöä ei lähetetty" in outcome.text
    assert rows(sessions) == []
    assert_forgotten(outcome.slots)


@pytest.mark.parametrize("slot, typed, guessed, value", [
    ("cb_urgency", "voi odottaa", "violence_danger_now", "later"),
    ("cb_contact_method", "puhelu", "violence_control", "call"),
    ("cb_alias", "Anna", "cancel", "Anna"),
    ("cb_alias", "Mikko", "faq", "Mikko"),
    ("cb_time_window", "milloin vain", "ask_opening_hours", "any"),
])
async def test_plain_answers_win_over_a_wrong_intent_guess(sessions: sessionmaker[Session], slot: str, typed: str,
                                                           guessed: str, value: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if slot == "cb_urgency":
        monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    outcome = await run(ValidateCallbackForm(), asked(slot, typed, guessed, **{
        k: v for k, v in {**FILLED, "cb_urgency": None}.items() if k not in (slot, "cb_phone", "cb_alias")}))
    assert outcome.slots[slot] == value
    assert "utter_emergency" not in outcome.responses


async def test_real_danger_at_the_urgency_question_is_urgent(sessions: sessionmaker[Session],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    outcome = await run(ValidateCallbackForm(), asked("cb_urgency", "tarvitsen apua nyt", "violence_danger_now"))
    assert outcome.responses[0] == "utter_emergency"
    assert outcome.slots["cb_urgency"] == "urgent"


@pytest.mark.parametrize("typed, intent", [("peruuta", "cancel"), ("ok mutta kuka näkee tiedot?", "faq")])
async def test_cancel_and_questions_are_not_taken_as_answers(sessions: sessionmaker[Session], typed: str,
                                                             intent: str) -> None:
    for slot in ("cb_alias", "cb_consent"):
        outcome = await run(ValidateCallbackForm(), asked(slot, typed, intent, cb_topic="muu",
                                                          cb_contact_method="call", cb_time_window="any"))
        assert [e for e in outcome.events if e["name"] != "requested_slot"] == [], slot


async def test_consent_is_asked_again_in_short() -> None:
    history = [{"event": "slot", "name": "requested_slot", "value": "cb_consent"}]
    again = await run(ActionAskCbConsent(), make_tracker("hmm", "nlu_fallback", history=history))
    assert "30 päivän" not in again.text and "kyllä tai ei" in again.text
    assert "/affirm" in again.payloads


async def test_urgent_help_does_not_repeat_the_emergency_numbers_just_given(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    history = [{"event": "user", "text": "tarvitsen apua nyt"},
               {"event": "bot", "text": "Jos olet vaarassa nyt, soita hätänumeroon 112. Nollalinja 080 005 005 …"}]
    outcome = await run(ActionSubmitCallback(), make_tracker("Oulu", "inform", history=history,
                                                              slots={"cb_urgency": "urgent", "municipality": "Oulu"}))
    assert "utter_emergency" not in outcome.responses
    assert "kellon ympäri" in outcome.text
