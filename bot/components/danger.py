"""Rasa NLU component that lets the deterministic danger detector overrule the classifier (safety rule S1)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.danger import default_patterns, detect_danger

VIOLENCE_INTENT_PREFIX = "violence_"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class DangerOverride(GraphComponent):
    """Routes any message the detector flags to a violence intent, whatever the classifier thought."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DangerOverride:
        default_patterns()  # compile the patterns at load: a broken file fails here, not on a parent's message
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            assessment = detect_danger(text)
            if not assessment.is_danger:
                continue
            predicted = (message.get(INTENT) or {}).get("name") or ""
            if predicted.startswith(VIOLENCE_INTENT_PREFIX) and not (
                assessment.immediate and predicted != "violence_danger_now"
            ):
                name = predicted
            else:
                name = "violence_danger_now" if assessment.immediate else "violence_experiencing"
            message.set(INTENT, {"name": name, "confidence": 1.0}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
            message.set(INTENT_RANKING_KEY, [{"name": name, "confidence": 1.0}, *ranking], add_to_output=True)
            message.set("danger", {"immediate": assessment.immediate}, add_to_output=True)
        return messages
