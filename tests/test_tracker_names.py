"""Nothing a person wrote is stored: user texts are replaced, and a name given as the callback alias is removed by
slot name and from the bot's texts of the same turn (S3)."""

from __future__ import annotations

import json

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.rasa_ext.tracker_store import NAME_PLACEHOLDER, USER_TEXT_PLACEHOLDER, names_in, redacted_event


def test_alias_slot_and_the_answer_that_gave_it_are_redacted() -> None:
    turn = [UserUttered("Voit kutsua minua Ainoksi, tai vain Aino", parse_data={"text": "Aino"}),
            SlotSet("cb_alias", "Aino")]
    names = names_in(turn)
    stored = json.dumps([redacted_event(event, names) for event in turn], ensure_ascii=False)
    assert "Aino" not in stored
    assert NAME_PLACEHOLDER in stored


def test_other_slots_keep_their_values() -> None:
    data = redacted_event(SlotSet("municipality", "Kempele"))
    assert data["value"] == "Kempele"


def test_a_stored_user_message_keeps_no_text_but_its_intent_and_entities() -> None:
    text = "Mieheni Jari Virtanen lyö minua, asumme Kuusitie 3:ssa, synnyin 3.4.1990, numero 040 ja sitten 1234567"
    event = UserUttered(text, intent={"name": "violence_experiencing", "confidence": 0.9},
                        entities=[{"entity": "municipality", "value": "Oulu", "start": 0, "end": 4}],
                        parse_data={"text": text, "intent": {"name": "violence_experiencing", "confidence": 0.9},
                                    "entities": [{"entity": "municipality", "value": "Oulu"}]})
    data = redacted_event(event)
    stored = json.dumps(data, ensure_ascii=False)
    for words in ("Jari", "Virtanen", "Kuusitie", "1990", "1234567", "lyö"):
        assert words not in stored
    assert data["text"] == data["parse_data"]["text"] == USER_TEXT_PLACEHOLDER
    assert data["parse_data"]["intent"]["name"] == "violence_experiencing"
    assert data["parse_data"]["entities"][0]["value"] == "Oulu"


@pytest.mark.parametrize("alias", ["A", "Ti", "Ion", "Ali"])
def test_a_short_alias_is_removed_from_texts_only_and_as_a_whole_word(alias: str) -> None:
    """An alias is cut out of what the bot said, never out of slot or action names or the middle of words."""
    turn = [SlotSet("cb_alias", alias), BotUttered(f"Kiitos, {alias}! Mihin numeroon työntekijä voi soittaa?"),
            ActionExecuted("action_ask_phone"), SlotSet("requested_slot", "phone")]
    names = names_in(turn)
    stored = [redacted_event(event, names) for event in turn]
    assert stored[0]["name"] == "cb_alias" and stored[0]["value"] == NAME_PLACEHOLDER
    assert stored[1]["text"] == f"Kiitos, {NAME_PLACEHOLDER}! Mihin numeroon työntekijä voi soittaa?"
    assert stored[2]["name"] == "action_ask_phone"
    assert stored[3] == {**stored[3], "name": "requested_slot", "value": "phone"}


def test_a_sealed_alias_is_stored_sealed_and_removed_from_the_bot_s_later_echo() -> None:
    """The alias travels sealed to the phone turn (core/sealed.py); the confirmation that echoes it turns later
    is stored without it, because names are taken from the whole session."""
    from core.sealed import seal, unseal

    sealed = seal("Ion")
    given = SlotSet("cb_alias", sealed)
    stored = redacted_event(given, names_in([given]))
    assert stored["value"] == sealed and unseal(stored["value"]) == "Ion" and "Ion" not in json.dumps(stored)
    later_turn = [BotUttered("Kiitos, Ion! Pyyntösi on tallennettu."), SlotSet("cb_alias", None)]
    names = names_in([given, *later_turn])
    assert names == frozenset({"Ion"})
    assert redacted_event(later_turn[0], names)["text"] == f"Kiitos, {NAME_PLACEHOLDER}! Pyyntösi on tallennettu."
    assert names_in([SlotSet("cb_alias", "-")]) == frozenset()  # "no alias" is no name to remove
