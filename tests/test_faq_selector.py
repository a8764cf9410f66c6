"""The FAQ response selector runs Rasa's ResponseSelector for FAQ messages only.

(bot/rasa_ext/components/faq_selector.py)
"""

from __future__ import annotations

import pytest
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.components.faq_selector import FaqResponseSelector


def _message(text: str, intent: str | None) -> Message:
    data: dict[str, object] = {"text": text}
    if intent is not None:
        data["intent"] = {"name": intent, "confidence": 0.9}
    return Message(data=data)


@pytest.fixture
def selected(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Texts that reached Rasa's own selection; it marks them so the caller can see them come back."""
    seen: list[str] = []

    def select(self: ResponseSelector, messages: list[Message]) -> list[Message]:
        for message in messages:
            seen.append(message.get("text"))
            message.set("response_selector", {"faq": {"response": {"intent_response_key": "faq/cost"}}},
                        add_to_output=True)
        return messages

    monkeypatch.setattr(ResponseSelector, "process", select)
    return seen


def _selector(retrieval_intent: str | None) -> FaqResponseSelector:
    selector = FaqResponseSelector.__new__(FaqResponseSelector)  # no network needed to decide what to select for
    selector.retrieval_intent = retrieval_intent
    return selector


def test_only_messages_of_the_retrieval_intent_get_a_selection(selected: list[str]) -> None:
    messages = [_message("mitä tämä maksaa", "faq"), _message("moi", "greet"), _message("???", None),
                _message("faq", "faq_like_but_not")]
    assert _selector("faq").process(messages) is messages
    assert selected == ["mitä tämä maksaa"]
    assert messages[0].get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/cost"
    assert all(message.get("response_selector") is None for message in messages[1:])


def test_without_a_retrieval_intent_every_message_gets_a_selection(selected: list[str]) -> None:
    messages = [_message("mitä tämä maksaa", "faq"), _message("moi", "greet")]
    _selector(None).process(messages)
    assert selected == ["mitä tämä maksaa", "moi"]


def test_a_turn_with_no_faq_message_skips_the_network(selected: list[str]) -> None:
    assert _selector("faq").process([_message("kiitos", "thank")])[0].get("text") == "kiitos"
    assert selected == []
