"""Rasa NLU component that lets the deterministic safety triage overrule the classifier (S1, S6, S7), and that
names each message's language (S10).

The module keeps its old name because config.yml and trained models refer to ``DangerOverride``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety.learned import default_model
from bot.safety.triage import DANGER, NONE, Triage, from_metadata, triage, warm_up
from bot.safety.triage import METADATA_KEY as TRIAGE_METADATA
from core import language

VIOLENCE_INTENT_PREFIX = "violence_"
#: Intents whose static replies switch the conversation onto a safety path (emergency numbers, crisis lines).
SAFETY_INTENTS = ("crisis_suicidal", "crisis_close_one", "crisis_harm_thoughts", "young_writer", "young_writer_danger")
#: Below this confidence, a safety intent that only the classifier saw becomes the fallback (whose first reply
#: also names 112): on the development sets the classifier alone sent many everyday messages ("my 8yo beat me at
#: chess") onto the emergency path, and most of its own catches were above it (README, "Safety triage").
DEFAULT_CLASSIFIER_ONLY_THRESHOLD = 0.8
#: A shelter question is a path of its own (the shelter search), asked by people in danger and by professionals
#: alike: the learned danger score does not judge it, only the classifier's confidence does.
LEARNED_DOUBT_EXEMPT = frozenset({"violence_shelter"})
#: Entities the triage adds; domain.yml maps them to the slots its responses' variations depend on. The language
#: entity fills `reply_language`, which every reply follows; a message that adds none keeps the conversation's.
LANGUAGE_ENTITY = "triage_language"
#: Where the web gateway puts the language it decided for the message (core/language.py), in the REST metadata.
METADATA = "metadata"
METADATA_LANGUAGE = "language"
YOUNG_ENTITY = "triage_young"
TRIAGE_ENTITIES = (LANGUAGE_ENTITY, YOUNG_ENTITY)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class DangerOverride(GraphComponent):
    """Routes a message the triage flags to its safe intent, whatever the classifier thought.

    Crisis, a parent's frightening thoughts and a young writer get their own intents. Danger keeps the
    classifier's violence intent when it has one (a third party stays a third party), and otherwise becomes
    ``violence_danger_now`` or ``violence_experiencing``.
    """

    def __init__(self, classifier_only_threshold: float = DEFAULT_CLASSIFIER_ONLY_THRESHOLD) -> None:
        self.classifier_only_threshold = classifier_only_threshold

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"classifier_only_threshold": DEFAULT_CLASSIFIER_ONLY_THRESHOLD}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DangerOverride:
        warm_up()  # compile the patterns at load: a broken file fails here, not on a parent's message
        return cls(float(config.get("classifier_only_threshold", DEFAULT_CLASSIFIER_ONLY_THRESHOLD)))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            verdict = _handed_over(message) or triage(text)
            _set_language(message, text, verdict)
            predicted = (message.get(INTENT) or {}).get("name") or ""
            if verdict.route == NONE:
                self._demote_unsure_safety_guess(message, predicted, verdict)
                continue
            name = verdict.intent or _danger_intent(predicted, verdict)
            message.set(INTENT, {"name": name, "confidence": 1.0}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
            message.set(INTENT_RANKING_KEY, [{"name": name, "confidence": 1.0}, *ranking], add_to_output=True)
            message.set("danger", {"immediate": verdict.danger.immediate}, add_to_output=True)
            entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != YOUNG_ENTITY]
            message.set(ENTITIES, [*entities, _entity(YOUNG_ENTITY, "yes" if verdict.young else "no")],
                        add_to_output=True)
        return messages


    def _demote_unsure_safety_guess(self, message: Message, predicted: str, verdict: Triage) -> None:
        """A safety intent the triage did not see becomes the fallback (whose first reply also names 112) when the
        classifier is unsure of it, or when the triage's learned model doubts there is danger (S8): on the
        held-out safety set the classifier's own catches added 2 danger messages and 34 false alarms."""
        confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
        is_safety = predicted.startswith(VIOLENCE_INTENT_PREFIX) or predicted in SAFETY_INTENTS
        if not is_safety:
            return
        doubted = (verdict.scores is not None and predicted not in LEARNED_DOUBT_EXEMPT
                   and verdict.scores.danger < default_model().thresholds.classifier_agreement)
        if confidence >= self.classifier_only_threshold and not doubted:
            return
        fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": confidence}
        message.set(INTENT, fallback, add_to_output=True)
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)


def _handed_over(message: Message) -> Triage | None:
    """The verdict the web gateway reached on this very text (REST metadata), so the message is triaged once; Rasa
    listens on loopback only, where the gateway is its one client. Without one, or a malformed one, None."""
    metadata = message.get(METADATA)
    return from_metadata(metadata.get(TRIAGE_METADATA)) if isinstance(metadata, dict) else None


def _set_language(message: Message, text: str, verdict: Triage) -> None:
    """The language the gateway decided for the message; without one (Rasa used directly) the detector's, only
    when it is sure, or the matched safety patterns'. No language entity leaves the conversation's as it was."""
    metadata = message.get(METADATA) or {}
    decided = language.normalise_language(metadata.get(METADATA_LANGUAGE)) if isinstance(metadata, dict) else None
    if decided is None:
        decided = language.plain_language(text) or verdict.pattern_language
    entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != LANGUAGE_ENTITY]
    if decided is not None:
        entities.append(_entity(LANGUAGE_ENTITY, decided))
    message.set(ENTITIES, entities, add_to_output=True)


def _danger_intent(predicted: str, verdict: Triage) -> str:
    assert verdict.route == DANGER
    immediate = verdict.danger.immediate
    if predicted.startswith(VIOLENCE_INTENT_PREFIX) and not (immediate and predicted != "violence_danger_now"):
        return predicted
    return "violence_danger_now" if immediate else "violence_experiencing"


def _entity(name: str, value: str) -> dict[str, Any]:
    # No start/end: the value is the triage's verdict, not a span of the user's text.
    return {"entity": name, "value": value, "extractor": DangerOverride.__name__}
