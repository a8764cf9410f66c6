"""Custom actions: thin wrappers that read slots, call catalogue and callback functions, and render replies.

Forms:
- search_form asks only what a search is missing (municipality; the child's age when it changes the result).
- callback_form is the contact request (Pyydä apua). It asks for consent before any personal data, and the
  phone number last: the number is read from that very message and written to the database in the same turn,
  so it never has to be carried in a slot (the tracker store redacts what is stored; S3).
Both forms answer danger signals themselves, emergency numbers first (S1, S2), and reject cancel, FAQ and
"are you a bot" so that the rules in data/stories/rules.yml handle those.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import lookup, render
from actions.deps import session_factory
from actions.needs import (
    MUNICIPALITY_NONE,
    MUNICIPALITY_OPTIONAL,
    STYLE_PLACES,
    STYLE_VIOLENCE_OPTIONS,
    VIOLENCE_OPTIONS,
    get_need,
    need_for_intent,
)
from actions.parsing import (
    answers,
    choose,
    is_skip,
    matches_any,
    opposites,
    parse_age,
    parse_language,
    read_choice,
)
from bot import phone
from bot.callbacks import NewCallback, create_callback
from bot.danger import detect_danger
from bot.office_hours import callback_deadline, is_office_open, next_callback_day, next_office_opening
from catalog.clock import now as clock_now

log = logging.getLogger(__name__)

EMERGENCY_RESPONSE = "utter_emergency"
VIOLENCE_OPTIONS_RESPONSE = "utter_violence_options"
VIOLENCE_PREFIX = "violence_"
VIOLENCE_LOCAL = "vv_local"  # actions/data/needs.yml: local help after violence
# Intents that stop a form's question; the rules answer them (and resume or end the form).
SEARCH_FORM_REJECTS = frozenset({"cancel", "request_callback", "faq", "bot_challenge", "goodbye"})
CALLBACK_FORM_REJECTS = frozenset({"cancel", "faq", "bot_challenge", "goodbye"})
PAGING_INTENTS = frozenset({"ask_more_places", "ask_opening_hours"})

MODE_NEW, MODE_MORE, MODE_HOURS = "new", "more", "hours"
URGENT, LATER, URGENT_CALLBACK = "urgent", "later", "urgent_callback"
URGENCY_VALUES = (URGENT, LATER, URGENT_CALLBACK)
CONTACT_METHODS = ("call", "sms")
CONTACT_NONE = "none"  # the person refused both a call and a message: no request, other ways to get help
TIME_WINDOWS = ("morning", "afternoon", "any")
OWN_WINDOW = "own"  # violence topic: the safe time in the person's own words (cb_safe_time)
VIOLENCE_TOPIC = "lahisuhdevakivalta"
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


# --- small helpers over the tracker ---------------------------------------------------------------------------

def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def latest_entity(tracker: Tracker, name: str) -> str | None:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            return str(entity["value"])
    return None


def catalog_unavailable(dispatcher: CollectingDispatcher, error: SQLAlchemyError) -> None:
    """Say honestly that the local search is down and give the fixed national numbers (S4: nothing invented)."""
    # The exception text may hold connection details or user input; log only its kind.
    log.error("catalogue unavailable: %s", type(error).__name__)
    dispatcher.utter_message(text=render.text("services.catalog_unavailable"), buttons=render.menu_buttons())


def utter(dispatcher: CollectingDispatcher, replies: list[render.Reply]) -> None:
    for reply in replies:
        dispatcher.utter_message(text=reply.get("text"), buttons=reply.get("buttons") or [])


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
    number is masked first: a valid phone answer is not danger (050 112 3456), the words around it still are."""
    if slot in PHONE_SLOTS and phone.looks_like_phone(text):
        text = _PHONE_SPAN.sub(" ", text)
    return bool(text.strip()) and detect_danger(text).is_danger


def callback_reset() -> list[EventType]:
    """Forget everything the contact request collected (S3): slots to None, counters to zero."""
    return [SlotSet(name, None) for name in CALLBACK_SLOTS] + [SlotSet(name, 0.0) for name in CALLBACK_COUNTERS]


def emergency_first(dispatcher: CollectingDispatcher) -> None:
    """The static emergency reply (112, Nollalinja), before anything else in this turn (S1, S2)."""
    dispatcher.utter_message(response=EMERGENCY_RESPONSE)


def _before_latest_user_message(tracker: Tracker) -> list[dict[str, Any]]:
    """The events before the latest user message, newest first."""
    events = list(reversed(tracker.events))
    for index, event in enumerate(events):
        if event.get("event") == "user":
            return events[index + 1:]
    return []


def emergency_just_given(tracker: Tracker) -> bool:
    """Whether the bot's previous turn already gave the emergency numbers (not repeated on the next one).

    Matched on words, not on 080 005 005: the tracker store redacts digit runs from what it keeps.
    """
    for event in _before_latest_user_message(tracker):
        if event.get("event") == "user":
            return False
        said = str(event.get("text") or "") if event.get("event") == "bot" else ""
        if "112" in said and "Nollalinja" in said:
            return True
    return False


def told_of_violence(tracker: Tracker) -> bool:
    """Whether an earlier message of this conversation was about violence (a violence intent)."""
    for event in _before_latest_user_message(tracker):
        if event.get("event") == "user":
            name = str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
            if name.startswith(VIOLENCE_PREFIX):
                return True
    return False


def asked_again(tracker: Tracker, slot: str) -> bool:
    """Whether the user's latest message answered this same question (so it is being asked again)."""
    for event in _before_latest_user_message(tracker):
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            return bool(event.get("value") == slot)
    return False


class SideSlotsFormValidation(FormValidationAction, ABC):
    """A FormValidationAction whose extract_ methods may also set slots outside the form (e.g. service_need).

    rasa-sdk keeps only the form's own slots from extraction; this keeps the others too.
    """

    @abstractmethod
    def name(self) -> str:
        """Abstract, so that rasa-sdk does not register this base class as an action."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            return await self._run_validation(dispatcher, tracker, domain)
        except SQLAlchemyError as error:
            catalog_unavailable(dispatcher, error)
            return [ActiveLoop(None), SlotSet("requested_slot", None)]

    async def _run_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        extraction_events = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extraction_events)
        validation_events = await self._extract_validation_events(dispatcher, tracker, domain)
        validated = {event["name"] for event in validation_events if event.get("event") == "slot"}
        side = [event for event in extraction_events if event["name"] not in validated]
        return side + validation_events


# --- search: which need, then the form, then the results -------------------------------------------------------

def need_events(tracker: Tracker) -> list[EventType]:
    """What the parent is looking for (from the intent or a button's need) and how to show it, as slot events.

    Run by validate_search_form when a message starts the form, in the same call that checks what is missing,
    so a search turn costs one prediction and one action-server call less (bench/LOAD_RESULTS.md).
    """
    intent = latest_intent(tracker)
    current = tracker.get_slot("service_need")
    chosen = get_need(latest_entity(tracker, "need")) or need_for_intent(intent)
    if chosen is None and current is None and told_of_violence(tracker):
        # "asun Oulussa" after the violence reply: the person goes on along the violence path, with local help.
        chosen = get_need(VIOLENCE_LOCAL)
    new = chosen.name if chosen else current
    shown = int(tracker.get_slot("results_offset") or 0) > 0
    mode = MODE_NEW
    if new == current and shown and intent == "ask_more_places":
        mode = MODE_MORE
    elif new == current and shown and intent == "ask_opening_hours":
        mode = MODE_HOURS
    events: list[EventType] = [SlotSet("service_need", new), SlotSet("search_mode", mode)]
    age = latest_entity(tracker, "age")
    if age and parse_age(age) is not None:
        # Set here, not by a from_entity mapping: the classifier tags digit groups of phone numbers as ages.
        events.append(SlotSet("age", age))
    if mode == MODE_NEW:
        events += [SlotSet("results_offset", 0.0), SlotSet("page_start", 0.0)]
    if new != current:
        events += [SlotSet("municipality_skipped", False), SlotSet("age_skipped", False)]
    return events


class ValidateSearchForm(SideSlotsFormValidation):
    """Asks for the municipality (and age when it matters); understands typed place names and "en halua kertoa"."""

    def name(self) -> str:
        return "validate_search_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """When a message starts the form, first take the need from it (need_events), then validate as usual."""
        # Rasa marks the form active before it calls this; nothing has been asked yet only when it starts.
        starting = not tracker.get_slot("requested_slot")
        if not starting:
            return await super().run(dispatcher, tracker, domain)
        need = need_events(tracker)
        tracker.add_slots(need)
        validated = await super().run(dispatcher, tracker, domain)
        overridden = {event["name"] for event in validated if event.get("event") == "slot"}
        return [event for event in need if event["name"] not in overridden] + validated

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        need = get_need(tracker.get_slot("service_need"))
        if need is None or need.municipality == MUNICIPALITY_NONE:
            return []
        slots = [] if tracker.get_slot("municipality_skipped") else ["municipality"]
        municipality = tracker.get_slot("municipality")
        ask_age = need.age_matters and municipality and not tracker.get_slot("age_skipped")
        if ask_age and (tracker.get_slot("age") is not None or self._age_matters(need.name, municipality)):
            slots.append("age")
        return slots

    @staticmethod
    def _age_matters(need_name: str, municipality: str) -> bool:
        need = get_need(need_name)
        assert need is not None
        with session_factory()() as session:
            return lookup.age_changes_result(session, need, municipality, clock_now())

    def _interrupt(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any] | None:
        """Handles messages that are not an answer; None when the message should be read as one."""
        intent = latest_intent(tracker)
        if intent in SEARCH_FORM_REJECTS:
            return {}
        if intent.startswith(VIOLENCE_PREFIX):
            emergency_first(dispatcher)
            need = need_for_intent(intent)
            return {"service_need": need.name if need else VIOLENCE_OPTIONS, "municipality_skipped": False}
        switched = need_for_intent(intent)
        if switched is not None and intent not in PAGING_INTENTS and switched.name != tracker.get_slot("service_need"):
            return {"service_need": switched.name, "municipality_skipped": False}
        return None

    async def extract_municipality(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "municipality":
            return {}
        interrupted = self._interrupt(dispatcher, tracker)
        if interrupted is not None:
            return interrupted
        if latest_entity(tracker, "municipality"):
            return {}  # action_extract_slots filled it; validate_municipality checks it
        if latest_intent(tracker) == "deny" or is_skip(latest_text(tracker)):
            return {"municipality_skipped": True}
        with session_factory()() as session:
            name = lookup.canonical_municipality(session, latest_text(tracker))
        if name:
            return {"municipality": name}
        if not any(latest_entity(tracker, e) for e in ("age", "language", "weekday", "time_of_day")):
            dispatcher.utter_message(text=render.text("ask.municipality_retry"))
        return {"municipality": None}

    async def validate_municipality(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        with session_factory()() as session:
            name = lookup.canonical_municipality(session, str(value or ""))
        if name is None:
            dispatcher.utter_message(text=render.text("ask.municipality_retry"))
            return {"municipality": None}
        return {"municipality": name, "municipality_skipped": False}

    async def extract_age(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "age":
            return {}
        interrupted = self._interrupt(dispatcher, tracker)
        if interrupted is not None:
            return interrupted
        text = latest_text(tracker)
        given = latest_entity(tracker, "age")
        if given and parse_age(given) is not None:
            return {"age": given}
        if latest_intent(tracker) == "deny" or is_skip(text):
            return {"age_skipped": True}
        if parse_age(text) is not None:
            return {"age": text}
        if latest_entity(tracker, "municipality"):
            return {}
        dispatcher.utter_message(text=render.text("ask.age_retry"))
        return {"age": None}

    async def validate_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> dict[str, Any]:
        if parse_age(str(value or "")) is None:
            dispatcher.utter_message(text=render.text("ask.age_retry"))
            return {"age": None}
        return {"age": str(value)}


class ActionAskMunicipality(Action):
    """Asks the municipality; gently, with "En halua kertoa", when the answer is optional (violence, separation)."""

    def name(self) -> str:
        return "action_ask_municipality"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        need = get_need(tracker.get_slot("service_need"))
        urgent = tracker.active_loop.get("name") == "callback_form"
        if urgent or (need is not None and need.municipality == MUNICIPALITY_OPTIONAL):
            dispatcher.utter_message(text=render.text("ask.municipality_gentle"),
                                     buttons=render.buttons("ask.municipality_skip_button"))
        else:
            dispatcher.utter_message(text=render.text("ask.municipality"))
        return []


class ActionAskAge(Action):
    def name(self) -> str:
        return "action_ask_age"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=render.text("ask.age"), buttons=render.buttons("ask.age_buttons"))
        return []


class ActionShowServices(Action):
    """Shows what the catalogue has for the current need: places with paging and hours, or services by need."""

    def name(self) -> str:
        return "action_show_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        need = get_need(tracker.get_slot("service_need"))
        if need is None:
            dispatcher.utter_message(text=render.text("services.no_need"), buttons=render.menu_buttons())
            return []
        if need.style == STYLE_VIOLENCE_OPTIONS:
            dispatcher.utter_message(response=VIOLENCE_OPTIONS_RESPONSE)
            return []
        now = clock_now()
        municipality = None if need.municipality == MUNICIPALITY_NONE else tracker.get_slot("municipality")
        age = None if tracker.get_slot("age_skipped") else parse_age(tracker.get_slot("age"))
        language = parse_language(tracker.get_slot("language"))
        mode = tracker.get_slot("search_mode") or MODE_NEW
        start = int(tracker.get_slot("page_start") or 0)
        offset = {MODE_NEW: 0, MODE_MORE: int(tracker.get_slot("results_offset") or 0), MODE_HOURS: start}[mode]
        try:
            with session_factory()() as session:
                if need.style != STYLE_PLACES:
                    found = lookup.find_for_need(session, need, municipality, age, language, now)
                    utter(dispatcher, render.services_replies(need, found, now))
                    return []
                places = lookup.find_places(session, need.topics[0], municipality, age, language, offset, now)
        except SQLAlchemyError as error:
            catalog_unavailable(dispatcher, error)
            return []
        if mode == MODE_HOURS:
            utter(dispatcher, render.hours_replies(places.page, now))
            return []
        utter(dispatcher, render.places_replies(places, now, more=mode == MODE_MORE, language=language))
        if not places.page:
            return []
        return [SlotSet("page_start", float(offset)), SlotSet("results_offset", float(places.next_offset))]


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
        if tracker.get_slot("cb_consent") is False or tracker.get_slot("cb_contact_method") == CONTACT_NONE:
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
                events["cb_topic"] = "lahisuhdevakivalta"
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
            return {"cb_topic": "lahisuhdevakivalta"}
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
        return {"cb_topic": topic or "muu"}

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
            return {"cb_contact_method": CONTACT_NONE}  # "ei soittoa eikä viestiä": honoured (S9)
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
            return {"cb_alias": text}
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
        check = phone.check_phone(latest_text(tracker), for_sms=tracker.get_slot("cb_contact_method") == "sms")
        if check.ok:
            return {"cb_phone": PHONE_GIVEN}
        tries = int(tracker.get_slot("cb_phone_tries") or 0) + 1
        if tries < MAX_PHONE_TRIES:
            dispatcher.utter_message(text=render.text(f"callback.phone_errors.{check.reason}") + " "
                                     + render.text("callback.phone_try_again"))
        return {"cb_phone": None, "cb_phone_tries": float(tries)}


class AskAction(Action, ABC):
    """Asks one question of the contact request with its buttons (texts in data/texts.yml)."""

    text_key = ""
    buttons_key: str | None = None

    @abstractmethod
    def name(self) -> str:
        """action_ask_<slot>, the name Rasa's form looks for."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        buttons = render.buttons(self.buttons_key) if self.buttons_key else []
        key = self.text_key
        if asked_again(tracker, self.name().removeprefix("action_ask_")) and render.has_text(f"{key}_again"):
            key = f"{key}_again"
        dispatcher.utter_message(text=render.text(key), buttons=buttons)
        return []


class ActionAskCbTopic(AskAction):
    text_key, buttons_key = "callback.ask_topic", "callback.topic_buttons"

    def name(self) -> str:
        return "action_ask_cb_topic"


class ActionAskCbContactMethod(AskAction):
    text_key, buttons_key = "callback.ask_contact_method", "callback.contact_method_buttons"

    def name(self) -> str:
        return "action_ask_cb_contact_method"


class ActionAskCbTimeWindow(AskAction):
    """When contact suits; for violence, when a call or message is safe, also in the person's own words (S9)."""

    text_key, buttons_key = "callback.ask_time_window", "callback.time_window_buttons"

    def name(self) -> str:
        return "action_ask_cb_time_window"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("cb_topic") != VIOLENCE_TOPIC:
            return await super().run(dispatcher, tracker, domain)
        sms = tracker.get_slot("cb_contact_method") == "sms"
        key = "callback.ask_safe_time_sms" if sms else "callback.ask_safe_time_call"
        dispatcher.utter_message(text=render.text(key), buttons=render.buttons("callback.safe_time_buttons"))
        return []


class ActionAskCbLeaveMessage(Action):
    """Violence topic (S9): may a message be left when the person does not answer; for SMS, the neutral text."""

    def name(self) -> str:
        return "action_ask_cb_leave_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        sms = tracker.get_slot("cb_contact_method") == "sms"
        key = "callback.ask_leave_message_sms" if sms else "callback.ask_leave_message_call"
        if asked_again(tracker, "cb_leave_message"):
            key = "callback.ask_leave_message_again"
        dispatcher.utter_message(text=render.text(key), buttons=render.buttons("callback.leave_message_buttons"))
        return []


class ActionAskCbConsent(AskAction):
    """The privacy notice (S3): what is stored, who sees it, how long, child-welfare duty, not for emergencies."""

    text_key, buttons_key = "callback.ask_consent", "callback.consent_buttons"

    def name(self) -> str:
        return "action_ask_cb_consent"


class ActionAskCbAlias(AskAction):
    text_key, buttons_key = "callback.ask_alias", "callback.alias_skip_button"

    def name(self) -> str:
        return "action_ask_cb_alias"


class ActionAskCbPhone(Action):
    def name(self) -> str:
        return "action_ask_cb_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        sms = tracker.get_slot("cb_contact_method") == "sms"
        dispatcher.utter_message(text=render.text("callback.ask_phone_sms" if sms else "callback.ask_phone_call"))
        return []


class ActionAskCbUrgency(Action):
    """After hours: says when staff are back and asks whether help is needed now."""

    def name(self) -> str:
        return "action_ask_cb_urgency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = clock_now()
        opening = next_office_opening(now)
        dispatcher.utter_message(
            text=render.text("callback.ask_urgency", day=render.day_named(opening.date(), now.date()),
                             opens=render.clock_text(opening)),
            buttons=render.buttons("callback.urgency_buttons"),
        )
        return []


class ActionSubmitCallback(Action):
    """Ends the contact request: stores it (before confirming), or shows 24/7 help, or says nothing was stored."""

    def name(self) -> str:
        return "action_submit_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = clock_now()
        slots = {name: tracker.get_slot(name) for name in (*CALLBACK_SLOTS, "municipality")}
        if slots["cb_urgency"] == URGENT:
            if not emergency_just_given(tracker):
                emergency_first(dispatcher)
            with session_factory()() as session:
                records = lookup.urgent_services(session, slots["municipality"], now)
            utter(dispatcher, render.urgent_replies(records, now, STATIC_EMERGENCY_NUMBERS))
            return callback_reset()
        if slots["cb_contact_method"] == CONTACT_NONE:
            # Neither a call nor a message: nothing is stored, and the person hears what else there is (S9).
            parts = [render.text("callback.no_contact_way")]
            if slots["cb_topic"] == VIOLENCE_TOPIC:
                parts.append(render.text("callback.no_contact_way_violence"))
            parts.append(render.text("callback.no_contact_way_end"))
            dispatcher.utter_message(text=" ".join(parts), buttons=render.menu_buttons())
            return callback_reset()
        if slots["cb_consent"] is False:
            dispatcher.utter_message(text=render.text("callback.consent_declined"), buttons=render.menu_buttons())
            return callback_reset()
        method = slots["cb_contact_method"]
        check = phone.check_phone(latest_text(tracker), for_sms=method == "sms")
        violence = slots["cb_topic"] == VIOLENCE_TOPIC
        needed = ("cb_topic", "cb_contact_method", "cb_time_window") + (("cb_leave_message",) if violence else ())
        complete = all(slots[name] is not None for name in needed)
        if slots["cb_consent"] is not True or slots["cb_phone"] != PHONE_GIVEN or not check.ok or not complete:
            dispatcher.utter_message(text=render.text("callback.phone_gave_up"),
                                     buttons=render.buttons("callback.gave_up_buttons"))
            return callback_reset()
        assert check.e164 is not None
        due = next_callback_day(now)
        alias = slots["cb_alias"] if slots["cb_alias"] not in (None, NO_ALIAS) else None
        request = NewCallback(
            topic=slots["cb_topic"], contact_method=method, phone_e164=check.e164,
            time_window=slots["cb_time_window"], callback_due=due,
            consent_notice_version=render.text("callback.notice_version"),
            alias=alias, municipality=slots["municipality"], urgent=slots["cb_urgency"] == URGENT_CALLBACK,
            safe_time=_safe_time(slots["cb_time_window"], slots["cb_safe_time"]) if violence else None,
            may_leave_message=bool(slots["cb_leave_message"]) if violence else None,
            language="fi",
        )
        try:
            with session_factory()() as session:
                create_callback(session, request, now)
        except SQLAlchemyError as error:
            # The exception text would hold the number; log only its kind.
            log.error("contact request could not be stored: %s", type(error).__name__)
            dispatcher.utter_message(text=render.text("callback.save_failed"))
            return callback_reset()
        key = "callback.saved_sms" if method == "sms" else "callback.saved_call"
        # The promise is the service's own (1–3 working days); the only day named is the last of those, which
        # office hours make certain. Never "huomenna": the queue decides which of the days it is (S9).
        confirmation = render.text(
            key, alias=f", {alias}" if alias else "", last_day=render.day_full(callback_deadline(now)),
            window=_window_clause(slots["cb_time_window"]),
            last_digits=phone.last_digits(check.e164),
        )
        parts = [confirmation]
        if violence:
            parts.append(render.text("callback.saved_safety_sms" if method == "sms" else "callback.saved_safety_call"))
            parts.append(render.text("callback.saved_leave_message_yes" if slots["cb_leave_message"]
                                     else "callback.saved_leave_message_no"))
        if not is_office_open(now):
            parts.append(render.text("callback.saved_after_hours"))
        parts.append(render.text("callback.saved_not_emergency"))
        dispatcher.utter_message(text=" ".join(parts), buttons=render.buttons("buttons.something_else"))
        return callback_reset()


def _window_clause(window: str) -> str:
    """", mahdollisuuksien mukaan aamupäivällä (klo 8–12)", or nothing when any time suits."""
    if window == OWN_WINDOW:
        return render.text("callback.own_window_clause")
    label = render.text(f"callback.windows.{window}")
    return render.text("callback.window_clause", window=label) if label else ""


def _safe_time(window: str, own_words: str | None) -> str:
    """What staff read as the safe time of a violence request: the person's own words, or the chosen window."""
    if window == OWN_WINDOW and own_words:
        return own_words[:MAX_SAFE_TIME_CHARS]
    return render.text(f"callback.safe_time_labels.{window}")


# Digits of the numbers utter_emergency gives; catalogue entries with only these are not repeated after it.
STATIC_EMERGENCY_NUMBERS = {"112", "080005005"}


class ActionCancelCallback(Action):
    """After "peruuta" in the contact request: nothing was stored; forget what was typed."""

    def name(self) -> str:
        return "action_cancel_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if latest_intent(tracker) == "goodbye":
            dispatcher.utter_message(response="utter_goodbye")
        else:
            dispatcher.utter_message(text=render.text("callback.cancelled"), buttons=render.menu_buttons())
        return callback_reset()


# --- fallback ---------------------------------------------------------------------------------------------------

class ActionFallbackHelp(Action):
    """Two-stage fallback: first ask to rephrase; the second time in a row, search the catalogue's text and offer
    a callback."""

    def name(self) -> str:
        return "action_fallback_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not self._second_in_a_row(tracker):
            dispatcher.utter_message(text=render.text("fallback.first"), buttons=render.menu_buttons())
            return []
        now = clock_now()
        try:
            with session_factory()() as session:
                records = lookup.text_search(session, latest_text(tracker), now)
        except SQLAlchemyError as error:
            catalog_unavailable(dispatcher, error)
            return []
        utter(dispatcher, render.search_replies(records, now))
        return []

    @staticmethod
    def _second_in_a_row(tracker: Tracker) -> bool:
        """True when the bot's answer just before this user message was this same fallback."""
        seen_user = False
        for event in reversed(tracker.events):
            kind = event.get("event")
            if kind == "user":
                seen_user = True
            elif kind == "action" and seen_user and event.get("name") not in IGNORED_ACTIONS:
                return bool(event.get("name") == "action_fallback_help")
        return False


IGNORED_ACTIONS = (None, "action_listen", "action_extract_slots")
