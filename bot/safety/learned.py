"""A learned second opinion on danger and crisis: linear models over character and word n-grams.

Why: keyword patterns generalise poorly to wording nobody here wrote (on the held-out safety set the danger
patterns found 62 % of the danger messages and the crisis patterns 40 % of the crisis messages). Logistic
regressions trained on the development safety sets and the NLU training data find far more at the same false-alarm
rate. They run beside the patterns (``bot.safety.triage`` combines the two), and are scored here with numpy from
weights exported at training time, so the first reply needs no ML library and costs a fraction of a millisecond.

Training (``python -m bot safety-train``, module ``bot.safety.learn``) uses scikit-learn with :func:`features` as
the vectoriser's analyser, so training and serving share one feature function and cannot drift apart. The model
file records a fingerprint of its training inputs; a test fails when the inputs changed and the file was not
retrained.

Like the patterns, the scores never carry any part of the user's text.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from bot.safety.danger import normalise

MODEL_PATH = Path(__file__).parent / "data" / "learned_triage.json.gz"
FORMAT = 1

#: The heads of the model: danger in a close relationship, the writer's own suicidal thoughts or self-harm, and a
#: parent's frightening thoughts of harming their baby.
DANGER, CRISIS, HARM_THOUGHTS = "danger", "crisis", "harm_thoughts"
HEADS = (DANGER, CRISIS, HARM_THOUGHTS)

CHAR_RANGE = (2, 5)
WORD_RANGE = (1, 2)
_WORD = re.compile(r"\w\w+")
# Marks word n-grams apart from character n-grams; normalise() turns every punctuation mark into a space, so the
# mark never occurs in a character n-gram.
WORD_MARK = "|"
# Longer text adds nothing to a first-reply decision and would only cost time; the patterns read the same span.
MAX_SCORED_CHARS = 2000


class LearnedModelError(RuntimeError):
    """The model file is missing or malformed: fail at start, never on a parent's message."""


def features(text: str, folded: str | None = None) -> list[str]:
    """The n-grams of a message: character 2-5-grams inside words, space-padded, and word 1-2-grams (``|``).

    The text is folded as the patterns fold it (``normalise``: case, accents, punctuation, long letter runs), so
    "MÄ PELKÄÄN!!!" and "ma pelkaan" are the same message to both layers. ``folded`` is that folding when the
    caller has it already (the triage passes it only for texts within MAX_SCORED_CHARS, where the two agree).
    """
    folded = normalise(text[:MAX_SCORED_CHARS]) if folded is None else folded[:MAX_SCORED_CHARS]
    grams: list[str] = []
    extend = grams.extend
    low, high = CHAR_RANGE
    for word in folded.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)  # a short word counts once, whole
                break
            extend([padded[i:i + n] for i in range(length - n + 1)])
    words = _WORD.findall(folded)
    extend([WORD_MARK + word for word in words])
    extend([f"{WORD_MARK}{words[i]} {words[i + 1]}" for i in range(len(words) - 1)])
    return grams


@dataclass(frozen=True)
class LearnedScores:
    """Probabilities per head, between 0 and 1."""

    danger: float
    crisis: float
    harm_thoughts: float


@dataclass(frozen=True)
class Thresholds:
    """Where the scores decide, chosen on the held-out safety set (see README "Safety triage")."""

    danger: float        # a message the patterns missed is danger at or above this
    danger_veto: float   # a pattern hit (not an immediate one) below this is not danger
    crisis: float        # a message the crisis patterns missed is a crisis at or above this (either crisis head)
    classifier_agreement: float  # the Rasa classifier's violence guess alone stands only at or above this


@dataclass(frozen=True)
class LearnedModel:
    """TF-IDF (sublinear tf, l2 norm) and one logistic regression per head, as exported by bot.safety.learn."""

    # n-gram -> (idf squared, then idf x weight for each head in HEADS order): the products are taken once at load.
    vocabulary: dict[str, tuple[float, float, float, float]]
    intercepts: tuple[float, ...]
    thresholds: Thresholds
    fingerprint: str
    # The same numbers as a matrix with a row per n-gram (and a last row of zeros for n-grams it has not seen), so
    # that a message's sums are a gather and two small products in numpy instead of a Python loop.
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)
    _matrix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rows", {gram: row for row, gram in enumerate(self.vocabulary)})
        width = len(HEADS) + 1
        matrix = np.zeros((len(self.vocabulary) + 1, width), dtype=np.float64)
        if self.vocabulary:
            matrix[:-1] = np.array(list(self.vocabulary.values()), dtype=np.float64).reshape(-1, width)
        object.__setattr__(self, "_matrix", matrix)

    def scores(self, text: str, folded: str | None = None) -> LearnedScores:
        """The three heads' probabilities; ``folded`` is ``normalise(text)`` when the caller has it already."""
        counts = Counter(features(text, folded))
        size = len(counts)
        b_danger, b_crisis, b_harm = self.intercepts
        if not size:
            return LearnedScores(danger=_sigmoid(b_danger), crisis=_sigmoid(b_crisis), harm_thoughts=_sigmoid(b_harm))
        unseen = len(self._matrix) - 1
        rows = np.fromiter(map(self._rows.get, counts, repeat(unseen)), dtype=np.intp, count=size)
        tf = np.fromiter(counts.values(), dtype=np.float64, count=size)
        tf = np.where(tf > 1.0, 1.0 + np.log(tf), 1.0)  # sublinear tf, as scikit-learn's TfidfVectorizer
        entries = self._matrix[rows]
        norm = float((tf * tf) @ entries[:, 0])
        scale = 1.0 / math.sqrt(norm) if norm > 0.0 else 0.0
        danger, crisis, harm = (tf @ entries[:, 1:]).tolist()
        return LearnedScores(danger=_sigmoid(danger * scale + b_danger), crisis=_sigmoid(crisis * scale + b_crisis),
                             harm_thoughts=_sigmoid(harm * scale + b_harm))


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def load_model(path: Path | str = MODEL_PATH) -> LearnedModel:
    """Read a model file written by bot.safety.learn.save_model."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
    except (OSError, ValueError, EOFError) as error:
        raise LearnedModelError(f"cannot read the learned triage model {path}: {error}") from error
    try:
        if data["format"] != FORMAT or tuple(data["heads"]) != HEADS:
            raise LearnedModelError(f"{path}: format {data['format']} with heads {data['heads']} is not this code's")
        width = len(HEADS) + 1
        vocabulary = {}
        for gram, values in data["vocabulary"].items():
            if len(values) != width:
                raise LearnedModelError(f"{path}: each n-gram needs an idf and {len(HEADS)} weights")
            idf, danger, crisis, harm = (float(v) for v in values)
            vocabulary[str(gram)] = (idf * idf, idf * danger, idf * crisis, idf * harm)
        intercepts = tuple(float(v) for v in data["intercepts"])
        if len(intercepts) != len(HEADS):
            raise LearnedModelError(f"{path}: {len(HEADS)} intercepts expected")
        thresholds = Thresholds(**{k: float(v) for k, v in data["thresholds"].items()})
        return LearnedModel(vocabulary, intercepts, thresholds, str(data["fingerprint"]))
    except (KeyError, TypeError, ValueError) as error:
        raise LearnedModelError(f"{path}: malformed learned triage model: {error!r}") from error


@lru_cache(maxsize=1)
def default_model() -> LearnedModel:
    """The bundled model, loaded once per process."""
    return load_model(MODEL_PATH)
