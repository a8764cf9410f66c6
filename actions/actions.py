"""Custom actions: thin wrappers that read slots, call catalogue and callback functions, and render replies.

This module holds the tracker helpers both forms share, the search (search_form asks only what a search is
missing: the municipality, and the child's age when it changes the result) and the fallback. The contact request
(callback_form, Pyydä apua) is in actions/callback.py (its validation) and actions/callback_steps.py (its
questions, storing and cancelling). Both forms answer danger signals themselves, emergency numbers first (S1, S2),
and reject cancel, FAQ and "are you a bot" so that the rules in data/stories/rules.yml handle those.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions import lookup, render
from actions.deps import session_factory
from actions.language import in_reply_language
from actions.needs import (
    MUNICIPALITY_NONE,
    MUNICIPALITY_OPTIONAL,
    STYLE_PLACES,
    STYLE_VIOLENCE_OPTIONS,
    VIOLENCE_OPTIONS,
    Need,
    get_need,
    need_for_intent,
)
from actions.parsing import (
    is_skip,
    parse_age,
    parse_language,
)
from bot.stats import counters
from catalog.municipalities import resolve_municipality
from core.clock import now as clock_now

log = logging.getLogger(__name__)

EMERGENCY_RESPONSE = "utter_emergency"
VIOLENCE_OPTIONS_RESPONSE = "utter_violence_options"
VIOLENCE_PREFIX = "violence_"
NOLLALINJA_NAMES = ("Nollalinja", "Nollinjen")  # Swedish names it Nollinjen (bot/safety/data/safety.yml)
VIOLENCE_LOCAL = "vv_local"  # actions/data/needs.yml: local help after violence
# Intents that stop a form's question; the rules answer them (and resume or end the form).
SEARCH_FORM_REJECTS = frozenset({"cancel", "request_callback", "faq", "bot_challenge", "goodbye"})
PAGING_INTENTS = frozenset({"ask_more_places", "ask_opening_hours"})

MODE_NEW, MODE_MORE, MODE_HOURS = "new", "more", "hours"


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


def utter(dispatcher: CollectingDispatcher, replies: list[render.Reply], custom: dict[str, Any] | None = None) -> None:
    """Say the replies; `custom` rides on the last one (the web chat reads it, e.g. to ask for feedback)."""
    for index, reply in enumerate(replies):
        last = index == len(replies) - 1
        dispatcher.utter_message(text=reply.get("text"), buttons=reply.get("buttons") or [],
                                 json_message=custom if last and custom else None)


def counted_topic(need: Need) -> str:
    """The topic string a search is counted (and rated) under: the first topic it looks up."""
    return str((need.topics or need.national_topics or (need.name,))[0])


def counted_municipality(value: Any) -> str:
    """The official name of the municipality a slot names, else "": a slot filled from an entity the resolver did
    not know would be the person's own words, which never go into a count."""
    found = resolve_municipality(str(value)) if value else None
    return found.name_fi if found is not None else ""


def count_search(session: Session, now: datetime, topic: str, municipality: str | None,
                 found_here: bool) -> dict[str, Any]:
    """Count a service answer (and a catalogue gap when nothing local was found); returns the chat's feedback cue."""
    municipality = counted_municipality(municipality)
    found = [counters.count_at(now, counters.SEARCH, topic, municipality)]
    if municipality and not found_here:
        found.append(counters.count_at(now, counters.NO_LOCAL, topic, municipality))
    counters.record(session, *found)
    return {"feedback_topic": topic}


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
        if "112" in said and any(name in said for name in NOLLALINJA_NAMES):
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

    @in_reply_language
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

    @in_reply_language
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

    @in_reply_language
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

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=render.text("ask.age"), buttons=render.buttons("ask.age_buttons"))
        return []


class ActionShowServices(Action):
    """Shows what the catalogue has for the current need: places with paging and hours, or services by need."""

    def name(self) -> str:
        return "action_show_services"

    @in_reply_language
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
                    rated = count_search(session, now, counted_topic(need), municipality,
                                         bool(found.local) or not need.topics)
                    utter(dispatcher, render.services_replies(need, found, now), rated)
                    return []
                places = lookup.find_places(session, need.topics[0], municipality, age, language, offset, now)
                cue: dict[str, Any] | None = None
                if mode == MODE_NEW:
                    cue = count_search(session, now, need.topics[0], municipality, bool(places.page))
        except SQLAlchemyError as error:
            catalog_unavailable(dispatcher, error)
            return []
        if mode == MODE_HOURS:
            utter(dispatcher, render.hours_replies(places.page, now))
            return []
        utter(dispatcher, render.places_replies(places, now, more=mode == MODE_MORE, language=language), cue)
        if not places.page:
            return []
        return [SlotSet("page_start", float(offset)), SlotSet("results_offset", float(places.next_offset))]


# --- fallback ---------------------------------------------------------------------------------------------------

class ActionFallbackHelp(Action):
    """Two-stage fallback: first ask to rephrase; the second time in a row, search the catalogue's text and offer
    a callback."""

    def name(self) -> str:
        return "action_fallback_help"

    @in_reply_language
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        now = clock_now()
        need = get_need(tracker.get_slot("service_need"))
        try:
            with session_factory()() as session:
                topic = counted_topic(need) if need else ""
                municipality = counted_municipality(tracker.get_slot("municipality"))
                counters.record(session, counters.count_at(now, counters.FALLBACK, topic, municipality))
        except SQLAlchemyError:
            pass  # counted or not, the person gets the reply below
        if not self._second_in_a_row(tracker):
            dispatcher.utter_message(text=render.text("fallback.first"), buttons=render.menu_buttons())
            return []
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
