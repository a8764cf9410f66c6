"""The contact request (Pyydä apua) and after-hours triage: consent first, the row before the confirmation,
no phone number left in slots or replies, and the callback day from office hours."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from action_fixtures import make_tracker, run
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions import callback, callback_steps
from actions.callback import ValidateCallbackForm
from actions.callback_steps import (
    ActionAskCbConsent,
    ActionAskCbLeaveMessage,
    ActionAskCbPhone,
    ActionAskCbTimeWindow,
    ActionAskCbUrgency,
    ActionCancelCallback,
    ActionSubmitCallback,
)
from bot.callbacks.models import CallbackRequest
from core.sealed import is_sealed, seal, unseal

PHONE_TEXT = "040 123 4567"  # fictional
PHONE_E164 = "+358401234567"
FRIDAY_NIGHT = "2026-11-27T23:00:00+02:00"
CHRISTMAS_EVE = "2026-12-24T10:00:00+02:00"
MIDSUMMER_EVE = "2027-06-25T10:00:00+03:00"

FILLED = {"cb_topic": "eroauttaminen", "cb_contact_method": "call", "cb_time_window": "morning",
          "cb_consent": True, "cb_alias": seal("Maija"), "cb_phone": "given"}


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
    assert _opened((await run(ValidateCallbackForm(), tracker)).slots[slot]) == value


def _opened(value: Any) -> Any:
    """A sealed slot value as the submit action will read it (the alias travels sealed, core/sealed.py)."""
    return unseal(value) if is_sealed(value) else value


async def test_the_alias_is_carried_sealed(sessions: sessionmaker[Session]) -> None:
    value = (await run(ValidateCallbackForm(), asked("cb_alias", "Maija"))).slots["cb_alias"]
    assert is_sealed(value) and "Maija" not in value and unseal(value) == "Maija"


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
    # The promise is the service's 1–3 working days; the day named is the last of them, never "huomenna" (S9).
    assert "1–3 arkipäivän kuluessa, viimeistään perjantaina 27.11." in outcome.text
    assert "huomenna" not in outcome.text and "keskiviikkona 25.11." not in outcome.text
    assert "päättyy 67" in outcome.text
    assert PHONE_TEXT not in outcome.text and PHONE_E164 not in outcome.text
    assert "112" in outcome.text
    assert_forgotten(outcome.slots)


@pytest.mark.parametrize(("reply_language", "stored"), [("sv", "sv"), ("en", "en"), (None, "fi"), ("xx", "fi")])
async def test_the_request_keeps_the_conversation_s_language(sessions: sessionmaker[Session],
                                                              reply_language: str | None, stored: str) -> None:
    """S10: staff see that a Swedish conversation asked for the call (contract 6: `language`)."""
    await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform",
                                                   slots={**FILLED, "reply_language": reply_language}))
    assert rows(sessions)[0].language == stored


async def test_a_conversation_stores_a_few_requests_an_hour_then_refuses_kindly(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    from actions import callback_steps

    said = [await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform", slots=FILLED))
            for _ in range(callback_steps.REQUESTS_PER_CONVERSATION[0] + 1)]
    assert len(rows(sessions)) == callback_steps.REQUESTS_PER_CONVERSATION[0]
    assert "En voi tallentaa uutta pyyntöä" in said[-1].text and "112" in said[-1].text
    assert_forgotten(said[-1].slots)
    # The ceiling for the whole process holds across conversations too.
    monkeypatch.setattr(callback_steps, "_per_conversation", callback_steps.SlidingWindowLimiter(1000, 3600.0))
    monkeypatch.setattr(callback_steps, "_per_process", callback_steps.SlidingWindowLimiter(1, 3600.0))
    await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform", slots=FILLED))
    assert "En voi tallentaa uutta pyyntöä" in (await run(ActionSubmitCallback(),
                                                make_tracker(PHONE_TEXT, "inform", slots=FILLED))).text


@pytest.mark.parametrize("now, due, day", [
    (FRIDAY_NIGHT, date(2026, 11, 30), "viimeistään keskiviikkona 2.12."),
    (CHRISTMAS_EVE, date(2026, 12, 28), "viimeistään keskiviikkona 30.12."),
    (MIDSUMMER_EVE, date(2027, 6, 28), "viimeistään keskiviikkona 30.6."),
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
    from catalog.query import crisis_services
    from core.clock import now as clock_now

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

    monkeypatch.setattr(callback_steps, "create_callback", broken)
    outcome = await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform", slots=FILLED))
    assert "en pystynyt tallentamaan pyyntöä" in outcome.text
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
    assert _opened(outcome.slots[slot]) == value
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


# --- S9: safe contact ----------------------------------------------------------------------------------------------

VIOLENCE = {**FILLED, "cb_topic": "lahisuhdevakivalta", "cb_contact_method": "sms", "cb_time_window": "morning",
            "cb_leave_message": False}
HOLIDAY_NIGHT = "2026-12-25T23:30:00+02:00"  # Christmas Day, a Friday night: office closed for three days


@pytest.mark.parametrize("typed, value", [
    ("älä soita", "sms"),
    ("ei soittoa, vain tekstiviesti", "sms"),
    ("ei puhelua", "sms"),
    ("tekstari käy mut ei soittoa", "sms"),
    ("don't call", "sms"),
    ("ring inte", "sms"),
    ("ei soittoa eikä tekstiviestiä", "none"),
])
async def test_contact_method_understands_refusals(sessions: sessionmaker[Session], typed: str, value: str) -> None:
    outcome = await run(ValidateCallbackForm(), asked("cb_contact_method", typed, "deny", cb_topic="muu"))
    assert outcome.slots["cb_contact_method"] == value
    assert "utter_emergency" not in outcome.responses


@pytest.mark.parametrize("slot, typed, value", [
    ("cb_urgency", "ei ole kiire", "later"),
    ("cb_urgency", "ei kiirettä", "later"),
    ("cb_urgency", "voi odottaa", "later"),
    ("cb_time_window", "ei sovi aamulla", "afternoon"),
])
async def test_negated_urgency_and_time(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
                                        slot: str, typed: str, value: str) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", FRIDAY_NIGHT)
    slots = {} if slot == "cb_urgency" else {"cb_urgency": "later", "cb_topic": "muu", "cb_contact_method": "call"}
    outcome = await run(ValidateCallbackForm(), asked(slot, typed, "inform", **slots))
    assert outcome.slots[slot] == value


async def test_refusing_both_ends_kindly_and_stores_nothing(sessions: sessionmaker[Session],
                                                            domain: dict[str, Any]) -> None:
    assert await required({"cb_topic": "lahisuhdevakivalta", "cb_contact_method": "none"}, domain) == []
    outcome = await run(ActionSubmitCallback(), make_tracker(
        "ei soittoa eikä viestiä", "deny", slots={"cb_topic": "lahisuhdevakivalta", "cb_contact_method": "none"}))
    assert rows(sessions) == []
    assert "ei soiteta eikä lähetetä viestiä" in outcome.text
    assert "Nollalinja" in outcome.text and "112" in outcome.text
    assert "/find_kohtaamispaikka" in outcome.payloads
    assert_forgotten(outcome.slots)


async def test_violence_adds_the_message_question_after_the_contact_method(sessions: sessionmaker[Session],
                                                                           domain: dict[str, Any]) -> None:
    order = await required({"cb_topic": "lahisuhdevakivalta"}, domain)
    assert order == ["cb_topic", "cb_contact_method", "cb_time_window", "cb_leave_message", "cb_consent",
                     "cb_alias", "cb_phone"]
    assert "cb_leave_message" not in await required({"cb_topic": "eroauttaminen"}, domain)
    assert "cb_leave_message" in domain["forms"]["callback_form"]["required_slots"]
    assert {"cb_safe_time", "cb_leave_message"} <= set(domain["slots"])
    assert "action_ask_cb_leave_message" in domain["actions"]


@pytest.mark.parametrize("method, fragments", [
    ("call", ["turvallista soittaa", "arkisin"]),
    ("sms", ["turvallista saada viesti", "arkisin"]),
])
async def test_violence_time_question_asks_when_it_is_safe(method: str, fragments: list[str]) -> None:
    outcome = await run(ActionAskCbTimeWindow(), make_tracker(slots={"cb_topic": "lahisuhdevakivalta",
                                                                     "cb_contact_method": method}))
    for fragment in fragments:
        assert fragment in outcome.text
    assert '/inform{"time_window": "any"}' in outcome.payloads
    plain = await run(ActionAskCbTimeWindow(), make_tracker(slots={"cb_topic": "muu"}))
    assert "turvallista" not in plain.text


@pytest.mark.parametrize("typed, entities, window, own", [
    ("", {"time_window": "afternoon"}, "afternoon", None),
    ("arkisin aamupäivällä", None, "morning", None),
    ("milloin vain", None, "any", None),
    ("kun lapset ovat koulussa", None, "own", "kun lapset ovat koulussa"),
])
async def test_safe_time_from_buttons_or_own_words(sessions: sessionmaker[Session], typed: str,
                                                   entities: dict[str, str] | None, window: str,
                                                   own: str | None) -> None:
    tracker = asked("cb_time_window", typed, "inform", entities, cb_topic="lahisuhdevakivalta",
                    cb_contact_method="sms")
    outcome = await run(ValidateCallbackForm(), tracker)
    assert outcome.slots["cb_time_window"] == window
    assert outcome.slots.get("cb_safe_time") == own
    assert outcome.slots["requested_slot"] == "cb_leave_message"


async def test_own_words_are_not_taken_for_other_topics(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ValidateCallbackForm(), asked("cb_time_window", "kun lapset ovat koulussa", "inform",
                                                      cb_topic="muu", cb_contact_method="call"))
    assert outcome.slots["cb_time_window"] is None and outcome.text


@pytest.mark.parametrize("method, fragments", [
    ("call", ["vastaajaan", "perhekeskuksesta soitettiin"]),
    ("sms", ['"Perhekeskus"', "väkivallasta siinä ei kerrota", "toisen viestin"]),
])
async def test_message_question_and_neutral_sender(method: str, fragments: list[str]) -> None:
    outcome = await run(ActionAskCbLeaveMessage(), make_tracker(slots={"cb_topic": "lahisuhdevakivalta",
                                                                       "cb_contact_method": method}))
    for fragment in fragments:
        assert fragment in outcome.text
    assert outcome.payloads == ["/affirm", "/deny"]


@pytest.mark.parametrize("typed, intent, value", [
    ("älä jätä viestiä", "inform", False),
    ("ei", "deny", False),
    ("saa jättää", "inform", True),
    ("kyllä", "affirm", True),
    ("kyllä, mutta ei saa jättää viestiä", "affirm", False),  # any "no" wins
])
async def test_leave_message_answers(sessions: sessionmaker[Session], typed: str, intent: str,
                                     value: bool) -> None:
    tracker = asked("cb_leave_message", typed, intent, cb_topic="lahisuhdevakivalta", cb_contact_method="call",
                    cb_time_window="any")
    outcome = await run(ValidateCallbackForm(), tracker)
    assert outcome.slots["cb_leave_message"] is value
    assert outcome.slots["requested_slot"] == "cb_consent"


@pytest.mark.parametrize("slots, safe_time, may_leave, fragments", [
    (VIOLENCE, "arkisin aamupäivällä (klo 8–12)", False,
     ['lukee vain "Perhekeskus"', "työntekijä ei jätä viestiä"]),
    ({**VIOLENCE, "cb_contact_method": "call", "cb_time_window": "own", "cb_safe_time": "kun lapset ovat koulussa",
      "cb_leave_message": True}, "kun lapset ovat koulussa", True,
     ["kertomanasi turvallisena aikana", "joku muu", "voi jättää lyhyen viestin"]),
])
async def test_violence_request_is_stored_with_safe_contact(sessions: sessionmaker[Session], slots: dict[str, Any],
                                                            safe_time: str, may_leave: bool,
                                                            fragments: list[str]) -> None:
    outcome = await run(ActionSubmitCallback(), make_tracker("050 123 4567", "inform", slots=slots))
    [row] = rows(sessions)
    assert row.topic == "lahisuhdevakivalta" and row.contact_method == slots["cb_contact_method"]
    assert row.safe_time == safe_time and row.may_leave_message is may_leave and row.language == "fi"
    for fragment in fragments:
        assert fragment in outcome.text
    assert_forgotten(outcome.slots)
    assert outcome.slots["cb_safe_time"] is None and outcome.slots["cb_leave_message"] is None


async def test_other_topics_store_no_safety_fields(sessions: sessionmaker[Session]) -> None:
    await run(ActionSubmitCallback(), make_tracker(PHONE_TEXT, "inform", slots=FILLED))
    [row] = rows(sessions)
    assert row.safe_time is None and row.may_leave_message is None and row.language == "fi"


# --- a phone number with 112 in it is a phone number ----------------------------------------------------------------

@pytest.mark.parametrize("typed, e164", [
    ("050 112 3456", "+358501123456"),
    ("040 1112 222", "+358401112222"),
    ("0401112222", "+358401112222"),
    ("numeroni on 050 112 3456", "+358501123456"),
])
async def test_phone_with_112_is_accepted_and_stored(sessions: sessionmaker[Session], typed: str,
                                                     e164: str) -> None:
    slots = {**FILLED, "cb_phone": None}
    # The Rasa component routes the text to a violence intent when the detector flags it; the answer still wins.
    outcome = await run(ValidateCallbackForm(), asked("cb_phone", typed, "violence_danger_now", **slots))
    assert "utter_emergency" not in outcome.responses
    assert outcome.slots["cb_phone"] == "given" and outcome.slots["requested_slot"] is None
    await run(ActionSubmitCallback(), make_tracker(typed, "violence_danger_now", slots={**slots, "cb_phone": "given"}))
    assert rows(sessions)[0].phone == e164


async def test_danger_words_beside_a_number_still_come_first(sessions: sessionmaker[Session]) -> None:
    from bot.safety.danger import detect_danger

    typed = "050 123 4567 hän uhkaa tappaa minut"
    assert detect_danger("hän uhkaa tappaa minut").is_danger
    outcome = await run(ValidateCallbackForm(), asked("cb_phone", typed, "violence_danger_now",
                                                      **{**FILLED, "cb_phone": None}))
    assert outcome.responses[:1] == ["utter_emergency"]


# --- S2: urgent after hours -----------------------------------------------------------------------------------------

async def test_urgency_question_carries_112(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", HOLIDAY_NIGHT)
    text = (await run(ActionAskCbUrgency(), make_tracker())).text
    assert "112" in text and text.index("112") < text.index("?")


async def test_urgent_first_message_on_a_holiday_night_gets_112_and_the_regional_crisis_service_first(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """The message already says it is urgent: no "can it wait?" question, 112 and the päivystys first."""
    from catalog.query import crisis_services
    from core.clock import now as clock_now

    monkeypatch.setenv("PERHEOPAS_NOW", HOLIDAY_NIGHT)
    typed = "tarvitsen sosiaalityöntekijää kiireesti, asun Oulussa"
    start = make_tracker(typed, "request_callback", {"municipality": "Oulu"}, active_loop="callback_form",
                         extracted={"municipality": "Oulu"})
    form = await run(ValidateCallbackForm(), start)
    assert form.messages == []  # nothing asked before the emergency information
    assert form.slots["cb_urgency"] == "urgent" and form.slots["requested_slot"] is None
    done = await run(ActionSubmitCallback(), make_tracker(typed, "request_callback",
                                                          slots={"cb_urgency": "urgent", "municipality": "Oulu"}))
    assert done.responses[0] == "utter_emergency"
    with sessions() as session:
        regional = [r.channel_name for r in crisis_services(session, "Oulu", now=clock_now()) if r.scope != "national"]
    assert regional and regional[0] in done.text
    assert rows(sessions) == []


async def test_urgent_first_message_without_entity_reads_the_municipality(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", HOLIDAY_NIGHT)
    form = await run(ValidateCallbackForm(), make_tracker("tarvitsen sosiaalityöntekijää kiireesti, asun Oulussa",
                                                          "request_callback", active_loop="callback_form"))
    assert form.slots["cb_urgency"] == "urgent" and form.slots["municipality"] == "Oulu"
    assert form.slots["requested_slot"] is None


async def test_urgent_first_message_without_municipality_gives_112_before_asking_it(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", HOLIDAY_NIGHT)
    form = await run(ValidateCallbackForm(), make_tracker("tarvitsen apua heti", "request_callback",
                                                          active_loop="callback_form"))
    assert form.responses[:1] == ["utter_emergency"]
    assert form.slots["cb_urgency"] == "urgent" and form.slots["requested_slot"] == "municipality"


@pytest.mark.parametrize("typed", ["ei ole kiire, mutta haluaisin jutella", "haluan pyytää yhteydenottoa"])
async def test_not_urgent_first_message_still_asks_whether_it_can_wait(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, typed: str) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", HOLIDAY_NIGHT)
    form = await run(ValidateCallbackForm(), make_tracker(typed, "request_callback", active_loop="callback_form"))
    assert form.slots.get("cb_urgency") is None and form.slots["requested_slot"] == "cb_urgency"


async def test_urgent_words_in_office_hours_do_not_skip_the_form(sessions: sessionmaker[Session]) -> None:
    form = await run(ValidateCallbackForm(), make_tracker("tarvitsen apua kiireesti", "request_callback",
                                                          active_loop="callback_form"))
    assert form.slots["requested_slot"] == "cb_topic"


async def test_phone_answer_wins_even_over_a_detector_that_flags_every_112(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """Independent of bot/safety/danger.py's patterns: the number is masked before the check at the phone question."""
    from bot.safety.danger import DangerAssessment

    def flags_112(text: str) -> DangerAssessment:
        return DangerAssessment(is_danger="112" in text, immediate="112" in text)

    monkeypatch.setattr(callback, "detect_danger", flags_112)
    outcome = await run(ValidateCallbackForm(), asked("cb_phone", "050 112 3456", "inform",
                                                      **{**FILLED, "cb_phone": None}))
    assert outcome.slots["cb_phone"] == "given" and "utter_emergency" not in outcome.responses
    typed_112 = await run(ValidateCallbackForm(), asked("cb_time_window", "soitan 112", "inform",
                                                        cb_topic="muu", cb_contact_method="call"))
    assert typed_112.responses[:1] == ["utter_emergency"]  # elsewhere, and 112 alone, stay danger


# --- S9: confidentiality is never promised without the child-welfare reporting duty ----------------------------------

def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_every_confidentiality_text_states_the_reporting_duty(domain: dict[str, Any]) -> None:
    from actions.render import texts

    spoken = _strings(texts()) + _strings(domain["responses"])
    confidential = [s for s in spoken if "luottamuksellis" in s]
    assert confidential
    for text in confidential:
        assert "lastensuojeluilmoitus" in text, text[:60]


def _finnish(domain: dict[str, Any], response: str) -> str:
    """The unconditional (Finnish) variation; the Swedish and English ones come first, with a condition."""
    return str(next(v for v in domain["responses"][response] if not v.get("condition"))["text"])


def test_privacy_answers_say_how_long_who_and_the_duty(domain: dict[str, Any]) -> None:
    privacy = _finnish(domain, "utter_faq/privacy")
    assert "30 päivää" in privacy and "eivät näe keskusteluja" in privacy
    assert "vain sitä hoitavat työntekijät" in privacy and "lastensuojeluilmoitus" in privacy
    assert "lastensuojeluilmoitus" in _finnish(domain, "utter_faq/is_anonymous")


@pytest.mark.parametrize("typed, intent, answered", [
    ("kun mieheni on töissä", "violence_control", True),
    ("peruuta", "cancel", False),
])
async def test_own_safe_time_wins_over_a_violence_intent_guess(sessions: sessionmaker[Session], typed: str,
                                                               intent: str, answered: bool) -> None:
    outcome = await run(ValidateCallbackForm(), asked("cb_time_window", typed, intent, cb_topic="lahisuhdevakivalta",
                                                      cb_contact_method="call"))
    assert (outcome.slots.get("cb_safe_time") == typed) is answered
    assert "utter_emergency" not in outcome.responses
