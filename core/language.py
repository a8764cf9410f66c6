"""The language of each message: Finnish, Swedish or English (S10).

A detector made for short text (lingua, with only these three languages loaded) reads each message, and the choice
combines it with what is already known, so that one short word ("ja", "ok", "nej") never flips a conversation:

1. a message the detector is sure of sets the language;
2. otherwise the language of the safety patterns that matched it (bot/safety/triage.py) does;
3. otherwise the conversation keeps its language; a new conversation takes the chat page's.

The gateway decides once per message and hands the result to Rasa as message metadata, so the detector runs in
one process; Rasa's component only detects when a message arrives without it (Rasa used directly).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"

#: How sure the detector must be to change a conversation's language, and to set a new conversation's language
#: against the page's. Chosen on the training sentences (bench/language_bench.py), never on the held-out sets: at
#: 0.7 no Finnish training sentence switched to another language, while 0.9 left half the English ones unswitched.
SWITCH_CONFIDENCE = 0.7
FIRST_CONFIDENCE = 0.7
#: A message shorter than this many letters, or of one word, never switches a language already set.
MIN_SWITCH_LETTERS = 8

_WORD = re.compile(r"[^\W\d_]+")
#: Things that are not language: numbers, e-mail addresses, links, phone numbers.
_NOT_LANGUAGE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|[\d+()./-]+")
#: Finnish names of services that Swedish and English writers use as they are ("neuvola in Oulu", "vad är ett
#: perhekeskus"): left out, they would make an English question Finnish. Stems, matched inside words.
SERVICE_STEMS = (
    "neuvol", "perhekesk", "perhekahvil", "kohtaamispaik", "turvako", "kotipalvel", "toimeentulo", "päiväko",
    "paivako", "varhaiskasvat", "lastenvalvo", "henkilötunn", "henkilotunn", "vertaistu", "palveluohja",
    "hoitopaik", "nollalinj", "lyömätön", "lyomaton", "kela", "perhetyö", "perhetyo", "sosiaalityö", "sosiaalityo",
    "eroneuvo",
)
#: The detector reads at most this much: a few sentences tell the language, and the cost grows with the text
#: (a 2,000-character message took 0.45 s on the gateway's event loop before this cap).
MAX_DETECT_CHARS = 400


@dataclass(frozen=True)
class Detection:
    """The detector's best guess and how sure it is (0–1); `language` is None for text with no letters."""

    language: str | None
    confidence: float
    words: int
    letters: int


def normalise_language(value: object) -> str | None:
    """A language code we serve, or None for anything else (a value from a request or a slot)."""
    return value if isinstance(value, str) and value in LANGUAGES else None


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    return (LanguageDetectorBuilder.from_languages(Language.FINNISH, Language.SWEDISH, Language.ENGLISH)
            .with_preloaded_language_models().build())


_CODES = {"FINNISH": "fi", "SWEDISH": "sv", "ENGLISH": "en"}


def warm_up() -> None:
    """Load the language models now (about 1 s) rather than on a person's first message."""
    _detector()


def detect(text: str) -> Detection:
    """The detector's verdict on one message. Numbers, links, e-mail addresses, Finnish service names and
    capitalised names after the first word (places: "Oulu", "Uleåborg") say nothing of the writer's language."""
    words = _language_words(_NOT_LANGUAGE.sub(" ", text[:MAX_DETECT_CHARS]))
    letters = sum(len(word) for word in words)
    if not words:
        return Detection(None, 0.0, 0, 0)
    values = _detector().compute_language_confidence_values(" ".join(words))
    best = values[0]
    return Detection(_CODES[best.language.name], float(best.value), len(words), letters)


def _language_words(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text) if not any(stem in w.lower() for stem in SERVICE_STEMS)]
    return words[:1] + [w for w in words[1:] if w == "I" or not w[:1].isupper()]


def choose(text: str | None, previous: str | None = None, page: str | None = None,
           pattern_language: str | None = None) -> str:
    """The language to answer this message in; see the module docstring for the order."""
    previous, page = normalise_language(previous), normalise_language(page)
    if text:
        found = detect(text)
        if found.language is not None and _sure(found, previous):
            return found.language
    return normalise_language(pattern_language) or previous or page or DEFAULT_LANGUAGE


def plain_language(text: str) -> str | None:
    """The message's language when the detector is sure enough to switch a conversation, else None."""
    found = detect(text)
    return found.language if found.language is not None and _sure_to_switch(found) else None


def _sure(found: Detection, previous: str | None) -> bool:
    if previous is None:
        return found.confidence >= FIRST_CONFIDENCE
    return _sure_to_switch(found)


def _sure_to_switch(found: Detection) -> bool:
    return found.confidence >= SWITCH_CONFIDENCE and found.words >= 2 and found.letters >= MIN_SWITCH_LETTERS
