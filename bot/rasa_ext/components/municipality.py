"""Rasa NLU component that turns municipality mentions into canonical names with the catalogue's resolver."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from catalog.municipalities import find_municipalities_in_text, resolve_municipality

ENTITY = "municipality"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class MunicipalityNormalizer(GraphComponent):
    """Normalises extracted municipality values ("Kempeleessä" → "Kempele") and finds ones the model missed.

    One resolver serves NLU and catalogue alike, so no synonym list per inflected form is needed.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MunicipalityNormalizer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities: list[dict[str, Any]] = list(message.get(ENTITIES) or [])
            kept: list[dict[str, Any]] = []
            found = False
            for entity in entities:
                if entity.get("entity") != ENTITY:
                    kept.append(entity)
                    continue
                municipality = resolve_municipality(str(entity.get("value", "")))
                if municipality is None:
                    continue  # an unresolvable "place" must not become a slot value
                kept.append({**entity, "value": municipality.name_fi})
                found = True
            if not found and message.get(TEXT):
                for municipality in find_municipalities_in_text(message.get(TEXT))[:1]:
                    kept.append({
                        "entity": ENTITY, "value": municipality.name_fi,
                        "extractor": type(self).__name__, "confidence_entity": 1.0,
                    })
            message.set(ENTITIES, kept, add_to_output=True)
        return messages
