"""Custom actions: thin wrappers that read slots, call catalog/bot functions and render Finnish replies."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.deps import session_factory
from actions.render import render_list
from catalog.clock import now as clock_now
from catalog.municipalities import resolve_municipality
from catalog.query import find_services

PAGE_SIZE = 4


class ActionFindKohtaamispaikka(Action):
    """Lists open meeting places for the municipality in the slot, nearest first."""

    def name(self) -> str:
        return "action_find_kohtaamispaikka"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        municipality = tracker.get_slot("municipality")
        now = clock_now()
        with session_factory()() as session:
            records = find_services(session, "kohtaamispaikka", municipality=municipality, now=now,
                                    limit=PAGE_SIZE)
        local = [r for r in records if r.scope == "local"]
        if local:
            dispatcher.utter_message(text=f"Kohtaamispaikkoja kunnassa {municipality}:")
            dispatcher.utter_message(text=render_list(local, now))
        elif records:
            dispatcher.utter_message(
                text=f"Kunnasta {municipality} en löytänyt kohtaamispaikkaa. Lähimpiä vaihtoehtoja:"
            )
            dispatcher.utter_message(text=render_list(records, now))
        else:
            dispatcher.utter_message(
                text=f"En löytänyt tiedoistani kohtaamispaikkaa kunnasta {municipality} tai sen läheltä."
            )
        return [SlotSet("results_offset", float(len(records)))]


class ValidateKohtaamispaikkaForm(FormValidationAction):
    """Accepts only municipalities the resolver knows, so a search never runs on a non-place."""

    def name(self) -> str:
        return "validate_kohtaamispaikka_form"

    def validate_municipality(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        municipality = resolve_municipality(str(value or ""))
        if municipality is None:
            dispatcher.utter_message(text="En tunnistanut kuntaa. Kirjoita kunnan nimi, esimerkiksi Oulu tai Tampere.")
            return {"municipality": None}
        return {"municipality": municipality.name_fi}
