"""Whitespace tokenizer that adds Voikko lemmas, so word features see "perhekahvilaa" and "perhekahvilan" alike."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import RESPONSE, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.finnish import VOIKKO, VoikkoUnavailableError

__all__ = ["VoikkoTokenizer", "VoikkoUnavailableError", "lemmatize"]


_PARTICIPLE_VERB = re.compile(r"^\+[^(+]*\(([^)]+)\)")  # "+lyö(lyödä)+n+yt(+yt)" -> lyödä


@lru_cache(maxsize=50_000)
def lemmatize(word: str) -> str:
    """Voikko's base form of one word, lower-cased; the surface form when Voikko does not know the word.

    Puhekieli ("haluisin", "tiiä") and typos ("kempeleesa") are unknown to Voikko and pass through unchanged,
    which is why the pipeline keeps character n-grams of the surface form as well.
    """
    lowered = word.lower()
    if not word or not any(ch.isalpha() for ch in word):
        return lowered
    analyses = VOIKKO.analyze(word)
    if not analyses:
        return lowered
    # Voikko lists the most common reading first; picking it is good enough for bag-of-words features.
    first = analyses[0]
    if first.get("PARTICIPLE"):
        # Voikko calls "lyönyt" an adjective; its verb ("lyödä") is what joins it to "lyö" and "lyömällä".
        verb = _PARTICIPLE_VERB.match(str(first.get("WORDBASES") or ""))
        if verb:
            return verb.group(1).lower()
    return str(first.get("BASEFORM") or word).lower()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VoikkoTokenizer(WhitespaceTokenizer):
    """Splits like WhitespaceTokenizer (same entity offsets) and sets each token's lemma with Voikko.

    CountVectorsFeaturizer reads `token.lemma` when `use_lemma` is true (its default), so a word-level
    featurizer sees base forms; set `use_lemma: false` on a char n-gram featurizer to keep surface forms.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        VOIKKO.require()  # a model trained on lemmas must not run without them: fail at load, not on a message

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VoikkoTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute not in (TEXT, RESPONSE):
            return tokens  # intent and action names are labels, not Finnish words
        for token in tokens:
            token.lemma = lemmatize(token.text)
        return tokens
