"""The rest of the family centre (issue 15): each new intent has a need, a catalogue answer and a callback."""

from __future__ import annotations

import re

import pytest
from action_fixtures import load_domain, make_tracker, run
from sqlalchemy.orm import Session, sessionmaker

from actions.actions import ActionAskMunicipality, ActionFallbackHelp, ActionShowServices, need_events
from actions.callback import ValidateCallbackForm
from actions.needs import get_need, load_needs, need_for_intent
from actions.render import texts
from bot.callbacks.vocabulary import OTHER_TOPIC, TOPICS
from catalog.query import find_services
from catalog.topics import load_topics
from core.clock import now as clock_now

# intent → (need, where the sample catalogue has a local or regional answer, one of its national pointers or None)
FAMILY_CENTRE = {
    "neuvola": ("neuvola", "Oulu", "Päivystysapu 116117"),
    "family_counselling": ("perheneuvola", "Tampere", "MLL:n Vanhempainpuhelin"),
    "home_help": ("perhetyo", "Nokia", None),
    "early_education": ("varhaiskasvatus", "Tampere", None),
    "parent_mental_health": ("jaksaminen", "Oulu", "MIELI Kriisipuhelin"),
    "money_worries": ("toimeentulo", "Raahe", "Kelan perustoimeentulotuki"),
    "substance_use": ("paihteet", "Kempele", "Päihdelinkki"),
    "school_worry": ("koulu", "Kuusamo", "MLL:n Vanhempainpuhelin"),
    "peer_support": ("vertaistuki", "Tampere", "MLL:n Vanhempainpuhelin"),
    "other_family_matter": ("palveluohjaus", "Oulu", "MLL:n Vanhempainpuhelin"),
}


@pytest.mark.parametrize("intent", sorted(FAMILY_CENTRE))
def test_every_new_intent_is_in_the_domain_and_has_a_need(intent: str) -> None:
    assert intent in load_domain()["intents"]
    need = need_for_intent(intent)
    assert need is not None and need.name == FAMILY_CENTRE[intent][0]
    assert need.callback_topic == OTHER_TOPIC
    known = set(load_topics().topics)
    assert set(need.topics) | set(need.national_topics) <= known


@pytest.mark.parametrize("intent", sorted(FAMILY_CENTRE))
def test_the_intent_starts_its_search(intent: str) -> None:
    slots = {e["name"]: e["value"] for e in need_events(make_tracker("x", intent))}
    assert slots["service_need"] == FAMILY_CENTRE[intent][0]


def test_family_counselling_is_no_longer_a_separation_need() -> None:
    need = get_need("perheneuvola")
    assert need is not None and need.callback_topic != "eroauttaminen"
    assert "eroneuvonta" not in need.topics and "eroauttaminen" not in need.national_topics


def test_every_need_has_a_button_and_intro_text() -> None:
    for name in load_needs():
        assert texts()["needs"][name]["button"], name
        assert "intro" in texts()["needs"][name], name


@pytest.mark.parametrize("intent", sorted(FAMILY_CENTRE))
async def test_the_answer_comes_from_the_catalogue_with_a_callback(sessions: sessionmaker[Session],
                                                                   intent: str) -> None:
    need_name, municipality, national = FAMILY_CENTRE[intent]
    need = get_need(need_name)
    assert need is not None
    with sessions() as session:
        local = [r.channel_name for t in need.topics for r in find_services(session, t, municipality, now=clock_now())
                 if r.match in ("local", "regional")]
    assert local, f"the sample catalogue has nothing for {need.topics} in {municipality}"
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": need_name,
                                                                  "municipality": municipality}))
    first = str(outcome.messages[0].get("text"))
    assert first == " ".join(texts()["needs"][need_name]["intro"].split())  # the warm first sentence
    assert local[0] in outcome.text
    if national:
        assert national in outcome.text
    assert "/request_callback" in outcome.payloads
    assert "Palveluja, jotka palvelevat kuntaa" not in outcome.text  # the need's own header, no template seam
    assert "en osaa" not in outcome.text.lower()


async def test_no_local_service_is_said_plainly(sessions: sessionmaker[Session],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("actions.lookup._here", lambda *args, **kwargs: [])
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "neuvola", "municipality": "Oulu"}))
    assert "En löytänyt tiedoistani neuvolaa läheltäsi" in outcome.text
    assert "Oulu:" not in outcome.text
    assert "/request_callback" in outcome.payloads


async def test_something_else_offers_every_family_topic(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "palveluohjaus",
                                                                  "municipality": "Oulu"}))
    needs = {m.group(1) for p in outcome.payloads if (m := re.search(r'"need": "(\w+)"', p))}
    assert {FAMILY_CENTRE[i][0] for i in FAMILY_CENTRE if i != "other_family_matter"} <= needs
    assert "Pyydä apua -lomake" in outcome.text or "Perhekeskuksen chat" in outcome.text


async def test_municipality_is_asked_gently_for_sensitive_matters() -> None:
    for need in ("jaksaminen", "paihteet", "toimeentulo", "perheneuvola"):
        outcome = await run(ActionAskMunicipality(), make_tracker(slots={"service_need": need}))
        assert "/deny" in outcome.payloads, need


@pytest.mark.parametrize("need", ["palveluohjaus", "neuvola", "jaksaminen"])
async def test_a_callback_from_these_paths_is_about_muu(sessions: sessionmaker[Session], need: str) -> None:
    assert OTHER_TOPIC in TOPICS
    tracker = make_tracker("haluan että joku soittaa", "request_callback", slots={"service_need": need})
    assert (await run(ValidateCallbackForm(), tracker)).slots["cb_topic"] == OTHER_TOPIC


async def test_the_first_fallback_offers_something_else(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionFallbackHelp(), make_tracker("blaa blaa", "nlu_fallback"))
    assert "/other_family_matter" in outcome.payloads
    assert "en osaa" not in outcome.text.lower()


async def test_the_second_fallback_offers_something_else_and_a_callback(sessions: sessionmaker[Session]) -> None:
    history = [
        {"event": "user", "text": "blaa", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_fallback_help"},
        {"event": "bot", "text": "En ihan ymmärtänyt."},
    ]
    outcome = await run(ActionFallbackHelp(), make_tracker("qwerty zxcv", "nlu_fallback", history=history))
    assert {"/other_family_matter", "/request_callback"} <= set(outcome.payloads)


def test_menus_offer_something_else() -> None:
    responses = load_domain()["responses"]
    for name in ("utter_greet", "utter_what_next", "utter_out_of_scope", "utter_cancelled"):
        buttons = [b["payload"] for variant in responses[name] for b in variant.get("buttons") or []]
        assert "/other_family_matter" in buttons, name
    assert "/other_family_matter" in [b["payload"] for b in texts()["menu"]["buttons"]]
