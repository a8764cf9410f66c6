"""The contact request (Pyydä apua): the callback form's validation, its questions, and storing the request.

Consent comes before any personal data, and the phone number last: the number is read from that very message and
written to the database in the same turn, so it never has to be carried in a slot (S3). After hours, urgency comes
first (S2). For lähisuhdeväkivalta it also asks when contact is safe and whether a message may be left (S9).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import lookup, render
from actions.actions import (
    VIOLENCE_PREFIX,
    SideSlotsFormValidation,
    emergency_first,
    latest_entity,
    latest_intent,
    latest_text,
)
from actions.deps import session_factory
from actions.needs import (
    get_need,
    need_for_intent,
)
from actions.parsing import (
    answers,
    choose,
    is_skip,
    matches_any,
    opposites,
    read_choice,
)
from bot.callbacks.office_hours import is_office_open
from bot.callbacks.vocabulary import (
    CONTACT_METHODS,
    NO_CONTACT,
    OTHER_TOPIC,
    OWN_WINDOW,
    SMS,
    TIME_WINDOWS,
    URGENCY_VALUES,
    URGENT,
    VIOLENCE_TOPIC,
)
from bot.safety.danger import detect_danger
from core import phone
from core.clock import now as clock_now
from core.sealed import seal

log = logging.getLogger(__name__)


CALLBACK_FORM_REJECTS = frozenset({"cancel", "faq", "bot_challenge", "goodbye"})

MAX_SAFE_TIME_CHARS = 80
NO_ALIAS = "-"
PHONE_GIVEN = "given"  # the number itself never goes into a slot
MAX_PHONE_TRIES = 3
MAX_ALIAS_TRIES = 2
MAX_ALIAS_CHARS = 40
ALIAS = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")

CALLBACK_SLOTS = ("cb_urgency", "cb_topic", "cb_contact_method", "cb_time_window", "cb_safe_time",
                  "cb_leave_message", "cb_consent", "cb_alias", "cb_phone")
# The questions the phone number may be typed at; there the number is masked before the danger check.
PHONE_SLOTS = ("cb_phone", "cb_alias")
_PHONE_SPAN = re.compile(r"\+?\d[\d\s\-()/.]{3,}\d")
CALLBACK_COUNTERS = ("cb_phone_tries", "cb_alias_tries")



def looks_like_name(text: str) -> bool:
    """A first name or nickname: one to three words of letters, and not a word like "peruuta" or "moi"."""
    text = " ".join(text.split())
    return (0 < len(text) <= MAX_ALIAS_CHARS and len(text.split()) <= 3 and bool(ALIAS.match(text))
            and not matches_any(text, answers().get("not_names") or []))


def looks_like_safe_time(text: str) -> bool:
    """A short answer in one's own words to "when is it safe?" ("kun lapset ovat koulussa"); not a number."""
    text = " ".join(text.split())
    return (2 <= len(text) <= MAX_SAFE_TIME_CHARS and "?" not in text and any(ch.isalpha() for ch in text)
            and not phone.looks_like_phone(text))


def reading(text: str, group: str) -> Any:
    """The negation-aware reading of a typed answer to one question of answers.yml (actions.parsing)."""
    return read_choice(text, answers()[group], opposites(group))


def urgent_in_message(text: str) -> bool:
    """Whether a message names urgency itself ("kiireesti", "heti", "hätä"), not negated ("ei ole kiire")."""
    return bool(text) and reading(text, "urgency").value == URGENT


def danger_in_answer(text: str, slot: str) -> bool:
    """The deterministic danger check of a form answer. At the questions a phone number may be typed at, the
    number is masked first: a valid phone answer is not danger (050 112 3456), the words around it still are.

    The patterns alone judge here, not the learned model of bot/safety/learned.py: it learned from whole messages,
    and a form answer is a name, a number or a time; the message that opened the form was triaged whole."""
    if slot in PHONE_SLOTS and phone.looks_like_phone(text):
        text = _PHONE_SPAN.sub(" ", text)
    return bool(text.strip()) and detect_danger(text).is_danger


def callback_reset() -> list[EventType]:
    """Forget everything the contact request collected (S3): slots to None, counters to zero."""
    return [SlotSet(name, None) for name in CALLBACK_SLOTS] + [SlotSet(name, 0.0) for name in CALLBACK_COUNTERS]


# --- the contact request (Pyydä apua) ------------------------------------------------------------------------

class ValidateCallbackForm(SideSlotsFormValidation):
    """Reads the answers of the contact request; decides which questions remain (after hours: urgency first)."""

    def name(self) -> str:
        return "validate_callback_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        urgency = tracker.get_slot("cb_urgency")
        if urgency is None and not is_office_open(clock_now()):
            return ["cb_urgency"]
        if urgency == URGENT:
            known = tracker.get_slot("municipality") or tracker.get_slot("municipality_skipped")
            return [] if known else ["municipality"]
        if tracker.get_slot("cb_consent") is False or tracker.get_slot("cb_contact_method") == NO_CONTACT:
            return []
        if int(tracker.get_slot("cb_phone_tries") or 0) >= MAX_PHONE_TRIES:
            return []
        # S9: for violence, also whether a message may be left (the time question asks when contact is safe).
        safety = ["cb_leave_message"] if tracker.get_slot("cb_topic") == VIOLENCE_TOPIC else []
        return ["cb_topic", "cb_contact_method", "cb_time_window", *safety, "cb_consent", "cb_alias", "cb_phone"]

    def _interrupt(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> dict[str, Any] | None:
        """Handles messages that are not an answer; None when the message should be read as one.

        A plain answer ("voi odottaa", "puhelu", "Anna") wins over the classifier's guess of another intent,
        unless the deterministic danger detector flags the text: then the emergency numbers come first (S1).
        A phone number is never read as danger at the questions it may be typed at (danger_in_answer).
        """
        intent, text = latest_intent(tracker), latest_text(tracker)
        danger = danger_in_answer(text, slot) if text else False
        if not danger and self._plain_answer(slot, text):
            return None
        if intent in CALLBACK_FORM_REJECTS:
            return {}
        if not danger and slot == "cb_time_window" and tracker.get_slot("cb_topic") == VIOLENCE_TOPIC \
                and looks_like_safe_time(text):
            # "kun mieheni on töissä" is an answer here, though the classifier may call it a violence intent.
            return None
        if danger or intent.startswith(VIOLENCE_PREFIX):
            emergency_first(dispatcher)
            events: dict[str, Any] = {slot: None}
            if tracker.get_slot("cb_topic") is None:
                events["cb_topic"] = VIOLENCE_TOPIC
            if slot == "cb_urgency":
                events["cb_urgency"] = URGENT
            return events
        return None

    @staticmethod
    def _plain_answer(slot: str, text: str) -> bool:
        """Whether the text reads as an answer to this question by the word lists alone."""
        if slot == "cb_phone":
            return phone.looks_like_phone(text)
        if "?" in text:
            return False
        groups = {"cb_urgency": "urgency", "cb_contact_method": "contact_method", "cb_time_window": "time_window",
                  "cb_consent": "consent", "cb_topic": "topic", "cb_leave_message": "leave_message"}
        if slot in groups:
            said = reading(text, groups[slot])
            return said.value is not None or bool(said.refused)
        if slot == "cb_alias":
            return is_skip(text) or looks_like_name(text)
        if slot == "municipality":
            return is_skip(text)
        return False

    def _asked(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> dict[str, Any] | None:
        """{} when `slot` is not the question asked now; the interrupt's slots when the message is not an answer;
        None when the message should be read as the answer."""
        if tracker.get_slot("requested_slot") != slot:
            return {}
        return self._interrupt(dispatcher, tracker, slot)

    async def extract_cb_urgency(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        given = latest_entity(tracker, "urgency")
        if tracker.get_slot("requested_slot") is None:
            # Starting the form: a button may already say it ("Jätä silti pyyntö arkipäivälle") and the topic.
            started: dict[str, Any] = {"cb_urgency": given} if given in URGENCY_VALUES else {}
            if not started and urgent_in_message(latest_text(tracker)):
                started = self._urgent_from_start(dispatcher, tracker)
            return {**started, **self._known_topic(tracker)}
        early = self._asked(dispatcher, tracker, "cb_urgency")
        if early is not None:
            return early
        choice = given if given in URGENCY_VALUES else reading(latest_text(tracker), "urgency").value
        if choice:
            return {"cb_urgency": choice}
        dispatcher.utter_message(text=render.text("callback.urgency_retry"))
        return {"cb_urgency": None}

    @staticmethod
    def _urgent_from_start(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """After hours, a first message that already says it is urgent skips "can it wait?" (S2): the urgent path
        at once, with the municipality from the message. If it is still missing, 112 comes before asking it."""
        if is_office_open(clock_now()):
            return {}
        started: dict[str, Any] = {"cb_urgency": URGENT}
        if not tracker.get_slot("municipality"):
            with session_factory()() as session:
                name = lookup.canonical_municipality(session, latest_text(tracker))
            if name:
                started["municipality"] = name
            else:
                emergency_first(dispatcher)
        return started

    async def extract_municipality(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "municipality")
        if early is not None:
            return early
        if latest_entity(tracker, "municipality"):
            return {}
        if latest_intent(tracker) == "deny" or is_skip(latest_text(tracker)):
            return {"municipality_skipped": True}
        with session_factory()() as session:
            name = lookup.canonical_municipality(session, latest_text(tracker))
        if name:
            return {"municipality": name}
        dispatcher.utter_message(text=render.text("ask.municipality_retry"))
        return {"municipality": None}

    async def validate_municipality(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        with session_factory()() as session:
            name = lookup.canonical_municipality(session, str(value or ""))
        if name is None:
            dispatcher.utter_message(text=render.text("ask.municipality_retry"))
        return {"municipality": name}

    @staticmethod
    def _known_topic(tracker: Tracker) -> dict[str, Any]:
        """The topic when the form starts: from the button, the message, or the path the parent is on."""
        if tracker.get_slot("cb_topic") is not None:
            return {}
        topics = answers()["topic"]
        given = latest_entity(tracker, "cb_topic")
        intent = latest_intent(tracker)
        from_intent = need_for_intent(intent)
        from_path = get_need(tracker.get_slot("service_need"))
        if given in topics:
            return {"cb_topic": given}
        if intent.startswith(VIOLENCE_PREFIX):
            return {"cb_topic": VIOLENCE_TOPIC}
        if from_intent is not None:
            return {"cb_topic": from_intent.callback_topic}
        if from_path is not None:
            return {"cb_topic": from_path.callback_topic}
        return {}

    async def extract_cb_topic(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") in (None, "cb_urgency"):
            return self._known_topic(tracker)
        early = self._asked(dispatcher, tracker, "cb_topic")
        if early is not None:
            return early
        topics = answers()["topic"]
        given = latest_entity(tracker, "cb_topic")
        topic = given if given in topics else choose(latest_text(tracker), topics)
        if topic is None and (from_intent := need_for_intent(latest_intent(tracker))) is not None:
            topic = from_intent.callback_topic
        # Anything else the parent describes in their own words is "muu": staff read the topic, not the bot.
        return {"cb_topic": topic or OTHER_TOPIC}

    async def extract_cb_contact_method(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "cb_contact_method")
        if early is not None:
            return early
        given = latest_entity(tracker, "contact_method")
        said = reading(latest_text(tracker), "contact_method")
        method = given if given in CONTACT_METHODS else said.value
        if method:
            return {"cb_contact_method": method}
        if said.refused >= set(CONTACT_METHODS):
            return {"cb_contact_method": NO_CONTACT}  # "ei soittoa eikä viestiä": honoured (S9)
        dispatcher.utter_message(text=render.text("callback.contact_method_retry"))
        return {"cb_contact_method": None}

    async def extract_cb_time_window(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "cb_time_window")
        if early is not None:
            return early
        given = latest_entity(tracker, "time_window")
        text = latest_text(tracker)
        said = reading(text, "time_window")
        window = given if given in TIME_WINDOWS else said.value
        if window is None and not said.refused and (time_of_day := latest_entity(tracker, "time_of_day")):
            window = choose(time_of_day, answers()["time_window"], "time_window")
        if window:
            return {"cb_time_window": window}
        if tracker.get_slot("cb_topic") == VIOLENCE_TOPIC and looks_like_safe_time(text):
            # When it is safe, in the person's own words: staff read it as written (S9).
            return {"cb_time_window": OWN_WINDOW, "cb_safe_time": " ".join(text.split())}
        dispatcher.utter_message(text=render.text("callback.time_window_retry"))
        return {"cb_time_window": None}

    async def extract_cb_leave_message(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "cb_leave_message")
        if early is not None:
            return early
        intent, text = latest_intent(tracker), latest_text(tracker)
        said = reading(text, "leave_message").value
        # Any "no" wins, also beside a "yes": a message left against the person's wish may put them in danger.
        says_no = read_choice(text, {"no": answers()["leave_message"]["no"]}).value == "no"
        if intent == "deny" or said == "no" or says_no:
            return {"cb_leave_message": False}
        if intent == "affirm" or said == "yes":
            return {"cb_leave_message": True}
        dispatcher.utter_message(text=render.text("callback.leave_message_retry"))
        return {"cb_leave_message": None}

    async def extract_cb_consent(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "cb_consent")
        if early is not None:
            return early
        intent, text = latest_intent(tracker), latest_text(tracker)
        said = reading(text, "consent").value
        if intent == "deny" or said == "no":
            return {"cb_consent": False}
        if intent == "affirm" or said == "yes":
            return {"cb_consent": True}
        return {"cb_consent": None}  # asked again, in short (callback.ask_consent_again)

    async def extract_cb_alias(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "cb_alias")
        if early is not None:
            return early
        text = " ".join(latest_text(tracker).split())
        if phone.looks_like_phone(text):
            # The number came before its question: read it now, in this same turn, as the last answer.
            return {"cb_alias": NO_ALIAS, **self._phone_answer(dispatcher, tracker)}
        if latest_intent(tracker) == "deny" or is_skip(text):
            return {"cb_alias": NO_ALIAS}
        if looks_like_name(text):
            return {"cb_alias": seal(text)}  # carried to the phone turn unreadable at rest (core/sealed.py)
        tries = int(tracker.get_slot("cb_alias_tries") or 0) + 1
        if tries >= MAX_ALIAS_TRIES:
            return {"cb_alias": NO_ALIAS, "cb_alias_tries": float(tries)}
        dispatcher.utter_message(text=render.text("callback.alias_retry", limit=MAX_ALIAS_CHARS))
        return {"cb_alias": None, "cb_alias_tries": float(tries)}

    async def extract_cb_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        early = self._asked(dispatcher, tracker, "cb_phone")
        if early is not None:
            return early
        if latest_intent(tracker) == "deny" and not phone.looks_like_phone(latest_text(tracker)):
            return {"cb_phone_tries": float(MAX_PHONE_TRIES)}
        return self._phone_answer(dispatcher, tracker)

    def _phone_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        check = phone.check_phone(latest_text(tracker), for_sms=tracker.get_slot("cb_contact_method") == SMS)
        if check.ok:
            return {"cb_phone": PHONE_GIVEN}
        tries = int(tracker.get_slot("cb_phone_tries") or 0) + 1
        if tries < MAX_PHONE_TRIES:
            dispatcher.utter_message(text=render.text(f"callback.phone_errors.{check.reason}") + " "
                                     + render.text("callback.phone_try_again"))
        return {"cb_phone": None, "cb_phone_tries": float(tries)}
