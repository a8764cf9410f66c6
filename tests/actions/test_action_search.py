"""The three guided paths: choosing the need, asking only what is missing, and answering from the catalogue."""

from __future__ import annotations

import re
from typing import Any

import pytest
from action_fixtures import make_tracker, run
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions import lookup
from actions.actions import (
    ActionAskAge,
    ActionAskMunicipality,
    ActionShowServices,
    ValidateSearchForm,
    need_events,
)
from catalog.query import find_services
from core.clock import now as clock_now

# --- the need, taken when a message starts the search form ---------------------------------------------------


@pytest.mark.parametrize("intent, entities, need", [
    ("find_kohtaamispaikka", {}, "kohtaamispaikka"),
    ("ero_talk_support", {}, "ero_talk"),
    ("ero_child_arrangements", {}, "ero_arrangements"),
    ("ero_child_support", {}, "ero_child"),
    ("ero_anonymous_chat", {}, "ero_chat"),
    ("ero_conflict_with_ex", {}, "ero_conflict"),
    ("violence_shelter", {}, "vv_shelter"),
    ("violence_child_witnessed", {}, "vv_child"),
    ("violence_perpetrator_help", {}, "vv_perpetrator"),
    ("inform", {"need": "vv_local"}, "vv_local"),
])
def test_set_need_from_intent_or_button(intent: str, entities: dict[str, str], need: str) -> None:
    slots = need_slots(make_tracker("x", intent, entities))
    assert slots["service_need"] == need
    assert slots["search_mode"] == "new"
    assert slots["results_offset"] == 0


def need_slots(tracker: Tracker) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in need_events(tracker)}


async def test_the_form_takes_the_need_when_a_message_starts_it(sessions: sessionmaker[Session]) -> None:
    starting = make_tracker("etsin perhekahvilaa", "find_kohtaamispaikka", active_loop="search_form")
    outcome = await run(ValidateSearchForm(), starting)
    assert outcome.slots["service_need"] == "kohtaamispaikka"
    assert outcome.slots["search_mode"] == "new"
    assert outcome.slots["requested_slot"] == "municipality"


async def test_the_form_keeps_the_need_while_it_runs(sessions: sessionmaker[Session]) -> None:
    running = make_tracker("ero", "ero_talk_support", active_loop="search_form", slots={
        "service_need": "kohtaamispaikka", "results_offset": 4.0, "requested_slot": "municipality"})
    outcome = await run(ValidateSearchForm(), running)
    assert "search_mode" not in outcome.slots and "results_offset" not in outcome.slots


async def test_inform_keeps_the_current_need() -> None:
    tracker = make_tracker("entä Kempeleessä", "inform", {"municipality": "Kempele"},
                           slots={"service_need": "ero_talk"})
    assert need_slots(tracker)["service_need"] == "ero_talk"


async def test_an_unknown_button_need_is_ignored() -> None:
    tracker = make_tracker("x", "inform", {"need": "nonsense"}, slots={"service_need": "kohtaamispaikka"})
    assert need_slots(tracker)["service_need"] == "kohtaamispaikka"


@pytest.mark.parametrize("intent, mode", [("ask_more_places", "more"), ("ask_opening_hours", "hours")])
async def test_paging_and_hours_continue_the_shown_list(intent: str, mode: str) -> None:
    tracker = make_tracker("x", intent, slots={"service_need": "kohtaamispaikka", "results_offset": 4.0})
    slots = need_slots(tracker)
    assert slots["search_mode"] == mode
    assert "results_offset" not in slots


async def test_more_without_a_list_starts_a_new_search() -> None:
    slots = need_slots(make_tracker("onko muita", "ask_more_places"))
    assert slots["service_need"] == "kohtaamispaikka"
    assert slots["search_mode"] == "new"


# --- search_form: ask only what is missing -----------------------------------------------------------------------

async def test_form_asks_municipality_when_missing(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("etsin perhekahvilaa", "find_kohtaamispaikka", slots={"service_need": "kohtaamispaikka"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.slots["requested_slot"] == "municipality"


async def test_form_is_done_when_municipality_is_known(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("perhekahvila Oulussa", "find_kohtaamispaikka", {"municipality": "Oulu"},
                           slots={"service_need": "kohtaamispaikka"}, extracted={"municipality": "Oulu"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.slots["municipality"] == "Oulu"
    assert outcome.slots["requested_slot"] is None


async def test_age_is_asked_only_where_it_changes_the_result(sessions: sessionmaker[Session],
                                                              domain: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Kempele has a baby café (0–1) and a café for all: with more places than fit on a page, ask the age."""
    with sessions() as session:
        places = find_services(session, "kohtaamispaikka", "Kempele", now=clock_now(), limit=50)
    assert len(places) > 1 and any(p.min_age is not None or p.max_age is not None for p in places), "sample changed"
    form = ValidateSearchForm()
    kempele = make_tracker("Kempele", "inform", slots={"service_need": "kohtaamispaikka", "municipality": "Kempele"})
    assert await form.required_slots([], CollectingDispatcher(), kempele, domain) == ["municipality"]
    monkeypatch.setattr(lookup, "PAGE_SIZE", 1)
    assert await form.required_slots([], CollectingDispatcher(), kempele, domain) == ["municipality", "age"]
    oulu = make_tracker("Oulu", "inform", slots={"service_need": "kohtaamispaikka"}, extracted={"municipality": "Oulu"})
    assert (await run(form, oulu)).slots["requested_slot"] is None


async def test_anonymous_chat_never_asks_the_municipality(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("haluan chatata nimettömänä", "ero_anonymous_chat", slots={"service_need": "ero_chat"})
    assert (await run(ValidateSearchForm(), tracker)).slots["requested_slot"] is None


@pytest.mark.parametrize("typed, expected", [
    ("kempeleessä", "Kempele"),
    ("Uleåborg", "Oulu"),
    ("tampereella", "Tampere"),
])
async def test_typed_place_names_are_resolved(sessions: sessionmaker[Session], typed: str, expected: str) -> None:
    tracker = make_tracker(typed, "nlu_fallback", slots={"service_need": "ero_talk", "requested_slot": "municipality"})
    assert (await run(ValidateSearchForm(), tracker)).slots["municipality"] == expected


async def test_unknown_place_is_asked_again(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("en tiedä", "out_of_scope", slots={"service_need": "kohtaamispaikka",
                                                               "requested_slot": "municipality"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.slots["municipality"] is None
    assert outcome.slots["requested_slot"] == "municipality"
    assert "En tunnistanut kuntaa" in outcome.text


async def test_en_halua_kertoa_skips_the_municipality(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("en halua kertoa", "deny", slots={"service_need": "vv_shelter",
                                                              "requested_slot": "municipality"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.slots["municipality_skipped"] is True
    assert outcome.slots["requested_slot"] is None


@pytest.mark.parametrize("intent", ["cancel", "request_callback", "faq", "bot_challenge", "goodbye"])
async def test_form_rejects_messages_the_rules_answer(sessions: sessionmaker[Session], intent: str) -> None:
    slots = {"service_need": "kohtaamispaikka", "requested_slot": "municipality"}
    tracker = make_tracker("peruuta", intent, slots=slots)
    outcome = await run(ValidateSearchForm(), tracker)
    assert not [e for e in outcome.events if e["name"] != "requested_slot"]
    assert outcome.messages == []


async def test_violence_during_the_form_leads_with_emergency(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("mies lyö minua", "violence_experiencing",
                           slots={"service_need": "kohtaamispaikka", "requested_slot": "municipality"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.messages[0].get("response") == "utter_emergency"
    assert outcome.slots["service_need"] == "vv_options"
    assert outcome.slots["requested_slot"] is None


async def test_shelter_request_during_the_form_switches_the_need(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("tarvitsen turvakodin", "violence_shelter",
                           slots={"service_need": "kohtaamispaikka", "requested_slot": "municipality"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.responses[0] == "utter_emergency"
    assert outcome.slots["service_need"] == "vv_shelter"
    assert outcome.slots["requested_slot"] == "municipality"


async def test_another_path_during_the_form_switches_the_need(sessions: sessionmaker[Session]) -> None:
    tracker = make_tracker("entä lastenvalvoja", "ero_child_arrangements",
                           slots={"service_need": "kohtaamispaikka", "requested_slot": "municipality"})
    outcome = await run(ValidateSearchForm(), tracker)
    assert outcome.slots["service_need"] == "ero_arrangements"


@pytest.mark.parametrize("typed, intent, slot, value", [
    ("2-vuotias", "inform", "age", "2-vuotias"),
    ("ei väliä", "deny", "age_skipped", True),
])
async def test_age_answers(sessions: sessionmaker[Session], typed: str, intent: str, slot: str, value: object,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "PAGE_SIZE", 1)
    tracker = make_tracker(typed, intent, slots={"service_need": "kohtaamispaikka", "municipality": "Kempele",
                                                 "requested_slot": "age"})
    assert (await run(ValidateSearchForm(), tracker)).slots[slot] == value


async def test_ask_municipality_is_gentle_and_skippable_for_violence() -> None:
    gentle = await run(ActionAskMunicipality(), make_tracker(slots={"service_need": "vv_shelter"}))
    assert "/deny" in gentle.payloads and "muuta sinun ei tarvitse kertoa" in gentle.text
    plain = await run(ActionAskMunicipality(), make_tracker(slots={"service_need": "kohtaamispaikka"}))
    assert plain.payloads == [] and "kunnasta" in plain.text


async def test_ask_age_offers_buttons() -> None:
    outcome = await run(ActionAskAge(), make_tracker())
    assert "/deny" in outcome.payloads and len(outcome.payloads) >= 4


# --- action_show_services: everything shown comes from the catalogue ------------------------------------------

def names(session: Session, topic: str, municipality: str | None, limit: int = 50) -> list[str]:
    return [r.channel_name for r in find_services(session, topic, municipality, now=clock_now(), limit=limit)]


async def test_meeting_places_in_the_municipality(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        local = [r for r in find_services(session, "kohtaamispaikka", "Oulu", now=clock_now(), limit=50)
                 if r.match in ("local", "regional")]
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "kohtaamispaikka",
                                                                  "municipality": "Oulu"}))
    for record in local[:4]:
        assert record.channel_name in outcome.text
        if record.address:
            assert record.address in outcome.text
    assert "Aukioloajat:" in outcome.text
    assert "Kielet: suomi" in outcome.text
    assert "Nyt auki" in outcome.text or "Aukeaa" in outcome.text
    assert {"/ask_opening_hours", "/cancel"} <= set(outcome.payloads)
    assert outcome.slots == {"page_start": 0.0, "results_offset": float(min(4, len(local)))}


async def test_places_are_listed_in_catalogue_order(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        ordered = [n for n in names(session, "kohtaamispaikka", "Oulu")][:3]
    text = (await run(ActionShowServices(), make_tracker(slots={"service_need": "kohtaamispaikka",
                                                                "municipality": "Oulu"}))).text
    assert [text.index(n) for n in ordered] == sorted(text.index(n) for n in ordered)


async def test_more_pages_then_says_there_are_no_more(sessions: sessionmaker[Session]) -> None:
    slots = {"service_need": "kohtaamispaikka", "municipality": "Oulu", "search_mode": "more", "results_offset": 50.0}
    outcome = await run(ActionShowServices(), make_tracker(slots=slots))
    assert "Muita kohtaamispaikkoja en löytänyt" in outcome.text
    assert outcome.slots == {}


async def test_opening_hours_of_the_shown_places(sessions: sessionmaker[Session]) -> None:
    slots = {"service_need": "kohtaamispaikka", "municipality": "Oulu", "search_mode": "hours", "page_start": 0.0,
             "results_offset": 3.0}
    outcome = await run(ActionShowServices(), make_tracker(slots=slots))
    assert outcome.text.startswith("Aukioloajat:")
    with sessions() as session:
        first = names(session, "kohtaamispaikka", "Oulu")[0]
    assert f"{first}:" in outcome.text


async def test_none_in_municipality_says_so_and_offers_nearby(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert not [n for n in find_services(session, "kohtaamispaikka", "Tyrnävä", now=clock_now())
                    if n.match == "local"], "sample data changed"
        nearby = [r.channel_name for r in find_services(session, "kohtaamispaikka", "Tyrnävä", now=clock_now(),
                                                        include_nearby=True, limit=50) if r.match == "nearby"]
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "kohtaamispaikka",
                                                                  "municipality": "Tyrnävä"}))
    assert "Tyrnävä: en löytänyt" in outcome.text
    assert "samalla hyvinvointialueella" in outcome.text
    assert nearby and nearby[0] in outcome.text
    assert "/request_callback" in outcome.payloads


@pytest.mark.parametrize("need, topics", [
    ("ero_arrangements", ["lastenvalvoja", "sovittelu"]),
    ("ero_conflict", ["sovittelu", "tapaamispaikka"]),
    ("ero_child", ["lasten_ryhma", "perheneuvonta"]),
    ("ero_talk", ["eroneuvonta"]),
    ("vv_shelter", ["turvakoti"]),
    ("vv_local", ["vakivaltatyo"]),
    ("vv_perpetrator", ["vakivallan_tekija"]),
])
async def test_each_need_shows_its_local_services(sessions: sessionmaker[Session], need: str,
                                                  topics: list[str]) -> None:
    municipality = "Oulu"
    with sessions() as session:
        expected = [r.channel_name for t in topics for r in find_services(session, t, municipality, now=clock_now())
                    if r.match in ("local", "regional")]
    assert expected, f"sample data has nothing for {topics} in {municipality}"
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": need, "municipality": municipality,
                                                                  "age": "8-vuotias"}))
    assert expected[0] in outcome.text
    assert "/request_callback" in outcome.payloads


async def test_violence_needs_remind_of_quick_exit(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "vv_local", "municipality": "Oulu"}))
    assert "Poistu nopeasti" in outcome.text and "historia" in outcome.text


async def test_anonymous_chat_comes_from_the_national_catalogue(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        chats = [r.channel_name for r in find_services(session, "anonyymi_chat", None, now=clock_now())]
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "ero_chat", "municipality": "Oulu"}))
    assert chats and chats[0] in outcome.text


async def test_nothing_found_is_said_honestly_with_a_callback(sessions: sessionmaker[Session],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample catalogue has something for every need, so the catalogue is made to find nothing.
    monkeypatch.setattr("actions.lookup._query", lambda *args, **kwargs: [])
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "vv_perpetrator",
                                                                  "municipality_skipped": True}))
    assert "En löytänyt tiedoistani sopivaa palvelua" in outcome.text
    assert "/request_callback" in outcome.payloads


async def test_help_for_those_who_use_violence_is_found_nationwide(sessions: sessionmaker[Session]) -> None:
    """A person who uses violence, anywhere in Finland, gets national help rather than an empty list."""
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "vv_perpetrator",
                                                                  "municipality": "Kuopio"}))
    assert "En löytänyt" not in outcome.text
    assert "nettiturvakoti.fi" in outcome.text


async def test_violence_options_come_from_the_static_response(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "vv_options"}))
    assert outcome.responses == ["utter_violence_options"]


async def test_no_need_offers_the_menu(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionShowServices(), make_tracker("Oulussa", "inform", slots={"municipality": "Oulu"}))
    assert "/find_kohtaamispaikka" in outcome.payloads


async def test_numbers_in_replies_exist_in_the_catalogue(sessions: sessionmaker[Session]) -> None:
    """S4: every phone number the bot shows is one the catalogue holds."""
    from catalog.models import Phone

    with sessions() as session:
        known = {p.display for p in session.query(Phone).all()}
    for need in ("ero_talk", "ero_arrangements", "ero_child", "ero_conflict", "vv_shelter", "vv_local",
                 "vv_perpetrator"):
        tracker = make_tracker(slots={"service_need": need, "municipality": "Oulu"})
        text = (await run(ActionShowServices(), tracker)).text
        shown = [m.group(1).strip() for line in text.splitlines() if (m := re.match(r"Puhelin ([\d +]+)", line))]
        assert set(shown) <= known


async def test_language_filter_keeps_places_serving_in_it(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        english = [r.channel_name for r in find_services(session, "kohtaamispaikka", "Oulu", language="en",
                                                         now=clock_now(), limit=50) if r.match == "local"]
        everyone = names(session, "kohtaamispaikka", "Oulu")
    assert english and len(english) < len(everyone), "sample data changed"
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "kohtaamispaikka",
                                                                  "municipality": "Oulu", "language": "englanniksi"}))
    assert all(name in outcome.text for name in english)
    assert not [name for name in everyone if name not in english and name in outcome.text]


async def test_language_nobody_serves_in_is_said_and_all_are_shown(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "kohtaamispaikka",
                                                                  "municipality": "Oulu", "language": "somaliksi"}))
    assert "palvellaan somaliksi" in outcome.text
    assert "Oulu: löysin nämä kohtaamispaikat." in outcome.text


async def test_digits_of_a_phone_number_never_become_the_age(sessions: sessionmaker[Session]) -> None:
    """The classifier tags "040 123 4567" as three `age` entities; none may end up in a slot."""
    tracker = make_tracker("040 123 4567", "inform", {"age": "4567"}, slots={"service_need": "kohtaamispaikka"})
    assert "age" not in need_slots(tracker)
    tracker = make_tracker("perhekahvila 2-vuotiaalle", "find_kohtaamispaikka", {"age": "2-vuotiaalle"})
    assert need_slots(tracker)["age"] == "2-vuotiaalle"
