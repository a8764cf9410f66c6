"""ResponseSelector that picks an FAQ answer only for messages the intent classifier took as that FAQ intent."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqResponseSelector(ResponseSelector):
    """Rasa's ResponseSelector, run only where its answer can be used.

    Rasa runs the selector's neural network on every message, but the answer is read only by the retrieval action
    (`utter_faq`), which the rules run only for the retrieval intent. Skipping the others saves one network call
    per message (about 8 % of the Rasa process's CPU under load, bench/LOAD_RESULTS.md) and changes no reply.
    Messages of the retrieval intent, and every message when no retrieval intent is configured, get Rasa's
    selection unchanged. It must follow the intent classifier in the pipeline.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        wanted = [message for message in messages if self._selects_for(message)]
        if wanted:
            super().process(wanted)
        return messages

    def _selects_for(self, message: Message) -> bool:
        if not self.retrieval_intent:
            return True
        intent = message.get(INTENT) or {}
        return intent.get(INTENT_NAME_KEY) == self.retrieval_intent
