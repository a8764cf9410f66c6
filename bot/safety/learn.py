"""Train the learned triage model (``bot/safety/learned.py``) from the development safety sets and the NLU data.

    python -m bot safety-train            # retrain and write bot/safety/data/learned_triage.json.gz
    python -m bot safety-train --check    # exit 1 when the file is older than its training inputs

Inputs, and nothing else, so that an evaluation set can never leak in:

* ``tests/safety_sets/dev/*.yml``: the development safety sets, labelled for danger and crisis. They count three
  times as much as an NLU example: they hold the hard negatives (idioms, toddlers who hit, numbers with 112).
* ``data/nlu/**/*.yml`` (not ``generated/``): the bot's training examples. The violence intents are danger, every
  other intent is not; ``violence_shelter`` is left out, since asking about a shelter is danger for one writer and
  a professional's question for another.

The held-out and fresh safety sets (``tests/safety_sets/heldout``, ``fresh``, ``fresh_2``) and the NLU held-out
sets (``tests/nlu``) are never read here. The thresholds below were chosen on the held-out safety set; the fresh
sets are for measurement only (tests/safety_sets/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.safety.learned import (
    CHAR_RANGE,
    FORMAT,
    HEADS,
    MODEL_PATH,
    WORD_RANGE,
    Thresholds,
    features,
    load_model,
)

REPO = Path(__file__).resolve().parents[2]
DEV_SETS = REPO / "tests" / "safety_sets" / "dev"
NLU_DATA = REPO / "data" / "nlu"

DANGER_INTENTS = frozenset({
    "violence_danger_now", "violence_experiencing", "violence_control", "violence_child_witnessed",
    "violence_third_party", "violence_perpetrator_help",
})
LEFT_OUT_INTENTS = frozenset({"violence_shelter"})
DEV_WEIGHT = 3.0
REGULARISATION_C = 10.0
# Chosen on the held-out safety set (README "Safety triage"): the same false-alarm rate as the patterns alone
# with far higher recall; a pattern hit the model finds very unlikely (and that is not an immediate one) is vetoed;
# a violence intent that only the Rasa classifier saw needs a score of 0.5 (bot/rasa_ext/components/danger.py).
THRESHOLDS = Thresholds(danger=0.8, danger_veto=0.2, crisis=0.5, classifier_agreement=0.5)
# Entity annotations of Rasa's YAML: [text](entity), [text](entity:value), [text]{"entity": ...}.
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[int, ...]  # one 0/1 per head, in HEADS order
    weight: float


def input_files(dev_sets: Path = DEV_SETS, nlu_data: Path = NLU_DATA) -> list[Path]:
    """Every file the model learns from, in a stable order."""
    nlu = [p for p in sorted(nlu_data.rglob("*.yml")) if "generated" not in p.relative_to(nlu_data).parts]
    return sorted(dev_sets.glob("*.yml")) + nlu


def fingerprint(files: Sequence[Path], root: Path = REPO) -> str:
    """A hash of the training inputs and of the settings: a changed file or setting means a stale model."""
    digest = hashlib.sha256()
    settings = [FORMAT, HEADS, CHAR_RANGE, WORD_RANGE, DEV_WEIGHT, REGULARISATION_C, sorted(DANGER_INTENTS),
                sorted(LEFT_OUT_INTENTS), THRESHOLDS.__dict__]
    digest.update(json.dumps(settings, sort_keys=True, default=list).encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def dev_examples(paths: Iterable[Path]) -> list[Example]:
    examples = []
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]:
            crisis = item.get("crisis") or "none"
            labels = (int(bool(item["danger"])), int(crisis in ("suicide", "self_harm")),
                      int(crisis == "harm_baby_thoughts"))
            examples.append(Example(str(item["text"]), labels, DEV_WEIGHT))
    return examples


def nlu_examples(paths: Iterable[Path]) -> list[Example]:
    examples = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            intent = block.get("intent")
            if not intent or intent in LEFT_OUT_INTENTS:
                continue
            danger = int(intent in DANGER_INTENTS)
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append(Example(_ENTITY.sub(r"\1", line[2:]), (danger, 0, 0), 1.0))
    return examples


def train(dev_sets: Path = DEV_SETS, nlu_data: Path = NLU_DATA) -> dict[str, Any]:
    """Fit the model on the training inputs; return it as the file stores it."""
    files = input_files(dev_sets, nlu_data)
    examples = dev_examples(p for p in files if p.parent == dev_sets) + nlu_examples(
        p for p in files if p.parent != dev_sets)
    return fit(examples, fingerprint(files))


def fit(examples: Sequence[Example], input_fingerprint: str) -> dict[str, Any]:
    """Fit the vectoriser (features() as its analyser) and one logistic regression per head."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=2)
    matrix = vectoriser.fit_transform([e.text for e in examples])
    weights = [e.weight for e in examples]
    heads = []
    for head in range(len(HEADS)):
        model = LogisticRegression(C=REGULARISATION_C, max_iter=5000, class_weight="balanced")
        model.fit(matrix, [e.labels[head] for e in examples], sample_weight=weights)
        heads.append(model)
    return export(vectoriser, heads, input_fingerprint, len(examples))


def export(vectoriser: Any, heads: Sequence[Any], input_fingerprint: str, examples: int) -> dict[str, Any]:
    """A fitted TfidfVectorizer and one fitted binary LogisticRegression per head, as the model file stores them."""
    coefficients = [head.coef_[0] for head in heads]
    vocabulary = {
        gram: [_round(float(vectoriser.idf_[index]))] + [_round(float(c[index])) for c in coefficients]
        for gram, index in vectoriser.vocabulary_.items()
    }
    return {
        "format": FORMAT,
        "heads": list(HEADS),
        "fingerprint": input_fingerprint,
        "examples": examples,
        "thresholds": dict(THRESHOLDS.__dict__),
        "intercepts": [_round(float(head.intercept_[0])) for head in heads],
        "vocabulary": dict(sorted(vocabulary.items())),
    }


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def save_model(model: dict[str, Any], path: Path = MODEL_PATH) -> None:
    """Write gzip'd JSON with a fixed timestamp, so retraining on the same inputs gives the same bytes."""
    raw = json.dumps(model, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
        handle.write(raw)
    path.write_bytes(buffer.getvalue())


def is_fresh(path: Path = MODEL_PATH) -> bool:
    return load_model(path).fingerprint == fingerprint(input_files())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot safety-train", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the model matches its inputs")
    args = parser.parse_args(argv)
    if args.check:
        if is_fresh():
            print(f"{MODEL_PATH.name} matches its training inputs")
            return 0
        print(f"{MODEL_PATH.name} is older than its training inputs: run `python -m bot safety-train`")
        return 1
    model = train()
    save_model(model)
    print(f"wrote {MODEL_PATH} ({len(model['vocabulary'])} n-grams, {model['examples']} examples)")
    return 0
