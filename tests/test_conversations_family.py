"""The rest of the family centre (issue 15) through the running stack: every new topic gets a catalogue answer or a
routed contact request, never the fallback. Uses the `chat` fixture of tests/test_conversations.py (its own stack
for this module)."""

# ruff: noqa: F811 (the tests take the imported `chat` fixture as their argument)
from __future__ import annotations

import pytest
from test_conversations import OFFICE_OPEN, Chat, catalogue, chat, payloads, texts  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.model]

FALLBACK = "En ihan ymmärtänyt"
OTHER_PHONE_TYPED = "040 111 2233"  # fictional
OTHER_PHONE_E164 = "+358401112233"

# intent → (catalogue topics of its local answer, municipality answered)
TOPICS = {
    "neuvola": (("neuvola",), "Oulu"),
    "family_counselling": (("perheneuvola",), "Tampere"),
    "home_help": (("perhetyo",), "Nokia"),
    "early_education": (("varhaiskasvatus",), "Tampere"),
    "parent_mental_health": (("mielenterveys",), "Oulu"),
    "money_worries": (("toimeentulo", "talousneuvonta"), "Raahe"),
    "substance_use": (("paihteet",), "Kempele"),
    "school_worry": (("oppilashuolto",), "Kuusamo"),
    "peer_support": (("vertaistuki",), "Tampere"),
    "other_family_matter": (("palveluohjaus",), "Oulu"),
}


def local_names(chat: Chat, topics: tuple[str, ...], municipality: str) -> list[str]:
    return [r["channel_name"] for topic in topics for r in catalogue(chat.parts.env, topic, municipality)
            if r["match"] in ("local", "regional")]


@pytest.mark.parametrize("intent", sorted(TOPICS))
def test_each_family_topic_asks_the_municipality_once_then_answers_from_the_catalogue(chat: Chat,
                                                                                      intent: str) -> None:
    chat.at(OFFICE_OPEN)
    sender = f"family-{intent}"
    topics, municipality = TOPICS[intent]
    first = texts(chat.say(sender, f"/{intent}"))
    assert "Mistä kunnasta" in first and FALLBACK not in first
    reply = chat.say(sender, municipality)
    shown = texts(reply)
    expected = local_names(chat, topics, municipality)
    assert expected and expected[0] in shown
    assert "/request_callback" in payloads(reply)
    assert FALLBACK not in shown and "Mistä kunnasta" not in shown  # asked once, not again


@pytest.mark.parametrize(("message", "topics", "municipality", "not_shown"), [
    # A tantrum is a family-guidance question, not a separation one.
    ("3-vuotias saa raivareita joka päivä, mistä saisi apua Tampereella", ("perheneuvola",), "Tampere",
     "Apua eroon"),
    ("olen ollut synnytyksen jälkeen tosi alakuloinen ja väsynyt, asun Oulussa", ("mielenterveys",), "Oulu",
     "Apua eroon"),
    ("rahat ei riitä ruokaan tässä kuussa, asumme Raahessa", ("toimeentulo",), "Raahe", "Eroneuvon"),
])
def test_typed_family_questions_reach_their_topic(chat: Chat, message: str, topics: tuple[str, ...],
                                                  municipality: str, not_shown: str) -> None:
    chat.at(OFFICE_OPEN)
    sender = f"typed-{topics[0]}"
    reply = chat.say(sender, message)
    if "Mistä kunnasta" in texts(reply):  # the classifier did not take the place name: answer the question
        reply = chat.say(sender, municipality)
    shown = texts(reply)
    assert FALLBACK not in shown and not_shown not in shown
    assert local_names(chat, topics, municipality)[0] in shown
    assert "/request_callback" in payloads(reply)


def test_something_else_leads_to_palveluohjaus_and_a_callback_about_muu(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    sender = "family-other-callback"
    greeting = chat.say(sender, "/greet")
    assert "/other_family_matter" in payloads(greeting)
    chat.say(sender, "/other_family_matter")
    answer = chat.say(sender, "Oulu")
    assert '/inform{"need": "neuvola"}' in payloads(answer)  # the topic menu
    assert "Soitetaanko" in texts(chat.say(sender, "/request_callback"))  # the topic is known: muu
    assert "Mihin aikaan" in texts(chat.say(sender, '/inform{"contact_method": "call"}'))
    assert "lastensuojeluilmoitus" in texts(chat.say(sender, '/inform{"time_window": "any"}'))
    assert "nimellä" in texts(chat.say(sender, "/affirm"))
    assert "numeroon" in texts(chat.say(sender, "/deny"))
    assert "tallennettu" in texts(chat.say(sender, OTHER_PHONE_TYPED))
    rows = [r for r in chat.callbacks() if r["phone"] == OTHER_PHONE_E164]
    assert len(rows) == 1 and rows[0]["topic"] == "muu"


def test_not_understood_twice_still_offers_the_family_centre(chat: Chat) -> None:
    chat.at(OFFICE_OPEN)
    first = chat.say("family-fallback", "qwerty zxcv asdf")
    assert "/other_family_matter" in payloads(first)
    second = chat.say("family-fallback", "qwerty zxcv asdf")
    assert {"/other_family_matter", "/request_callback"} <= set(payloads(second))
    assert "osaa auttaa" not in texts(first) + texts(second)
