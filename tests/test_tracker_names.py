"""A name given as the callback alias is removed by slot name, and from the texts of the same turn (S3)."""

from __future__ import annotations

import json

from rasa.shared.core.events import SlotSet, UserUttered

from bot.rasa_ext.tracker_store import NAME_PLACEHOLDER, names_in, redacted_event


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
