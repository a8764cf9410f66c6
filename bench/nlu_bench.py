"""NLU benchmark: train each candidate pipeline on data/nlu, score it on the held-out tests/nlu/test_set.yml.

    .venv/bin/python bench/nlu_bench.py                 # all candidates in bench/configs (a, b, c, d)
    .venv/bin/python bench/nlu_bench.py --only a --only c --json var/bench/nlu.json
    .venv/bin/python bench/nlu_bench.py --model models/perheopas.tar.gz --held-out   # a trained model on every
                                                        # held-out set (fi, sv, en), one row per set
    .venv/bin/python bench/nlu_bench.py --per-language  # one model per language (config.yml, NLU only) against
                                                        # its language's blind held-out set

Each message is read twice from the same trained model: once up to the node before the deterministic
DangerOverride (the classifier's view, which the intent figures describe) and once through the whole
pipeline (what the dialogue receives, which the danger figures describe). The test suite reuses
`evaluate_sets` on the production model (tests/nlu/test_nlu_quality.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: make bot/ and catalog/ importable for custom components
    sys.path.insert(0, str(REPO_ROOT))

# Before Rasa or TensorFlow is imported: no telemetry (no network here, and a family service must not phone
# home), no progress bars in logs, and no training cache so that training times are honest.
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")

NLU_DATA = REPO_ROOT / "data" / "nlu"
TEST_SET = REPO_ROOT / "tests" / "nlu" / "test_set.yml"
#: The held-out sets, each written apart from the training data (tests/nlu/README.md); one per language.
HELD_OUT_SETS = {
    "test_set": TEST_SET,
    "fi_2026-12-07": REPO_ROOT / "tests" / "nlu" / "heldout_2026-12-07.yml",
    "sv_2026-12-07": REPO_ROOT / "tests" / "nlu" / "heldout_sv_2026-12-07.yml",
    "en_2026-12-07": REPO_ROOT / "tests" / "nlu" / "heldout_en_2026-12-07.yml",
    # The second blind round (2026-12-07c), written while new training data was written apart from it.
    "fi_2026-12-07c": REPO_ROOT / "tests" / "nlu" / "heldout_fi_2026-12-07c.yml",
    "sv_2026-12-07c": REPO_ROOT / "tests" / "nlu" / "heldout_sv_2026-12-07c.yml",
    "en_2026-12-07c": REPO_ROOT / "tests" / "nlu" / "heldout_en_2026-12-07c.yml",
}
DOMAIN = REPO_ROOT / "domain.yml"
GENERATED_LOOKUP = NLU_DATA / "generated" / "municipalities.yml"
CANDIDATES: dict[str, Path] = {
    "a": REPO_ROOT / "bench" / "configs" / "config_a_charngram.yml",
    "b": REPO_ROOT / "bench" / "configs" / "config_b_voikko.yml",
    "c": REPO_ROOT / "bench" / "configs" / "config_c_spacy.yml",
    "d": REPO_ROOT / "bench" / "configs" / "config_d_logreg.yml",  # optional; skipped when absent
}
DANGER_COMPONENT = "bot.rasa_ext.components.danger.DangerOverride"
VIOLENCE_PREFIX = "violence_"
# Intents whose first reply also gives 112 and Nollalinja for a danger message: a child's danger reply, and the
# crisis reply, after which the gateway adds the emergency lead when the danger layer also saw danger.
SAFE_FOR_DANGER = ("young_writer_danger", "crisis_suicidal")


def routes_danger(intent: str) -> bool:
    """Whether a message with this final intent gets the emergency numbers first (S1)."""
    return intent.startswith(VIOLENCE_PREFIX) or intent in SAFE_FOR_DANGER
MUNICIPALITY = "municipality"
RETRIEVAL_INTENT = "faq"


@dataclass(frozen=True)
class GoldMessage:
    """One held-out message: its full label (retrieval sub-intent for faq) and annotated entities."""

    text: str
    label: str
    entities: tuple[tuple[str, int, int, str], ...]  # (entity, start, end, annotated text)


@dataclass
class Scores:
    """Figures for one model on the held-out set; the lists name the failures so they can be fixed."""

    messages: int = 0
    intent_accuracy: float = 0.0
    intent_macro_f1: float = 0.0
    intent_macro_f1_faq_merged: float = 0.0
    final_intent_accuracy: float = 0.0  # after DangerOverride, which may turn any intent into violence_*
    final_intent_macro_f1: float = 0.0
    entity_f1: float = 0.0
    entity_f1_by_type: dict[str, float] = field(default_factory=dict)
    municipality_accuracy: float = 0.0
    municipality_messages: int = 0
    municipality_unresolvable: list[str] = field(default_factory=list)
    municipality_errors: list[dict[str, Any]] = field(default_factory=list)
    municipality_false_alarms: list[dict[str, Any]] = field(default_factory=list)
    danger_messages: int = 0
    danger_recall_classifier: float = 0.0
    danger_recall: float = 0.0
    danger_misses: list[dict[str, str]] = field(default_factory=list)
    false_danger: list[dict[str, str]] = field(default_factory=list)
    intent_errors: list[dict[str, str]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)  # every message with its top-3 ranking
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    train_seconds: float | None = None


def load_test_set(path: Path = TEST_SET) -> list[GoldMessage]:
    """Read a Rasa NLU YAML file into gold messages (faq examples keep their sub-intent as the label)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    gold: list[GoldMessage] = []
    for message in data.intent_examples:
        label = message.get("intent_response_key") or message.get("intent")
        entities = tuple(
            (e["entity"], int(e["start"]), int(e["end"]), message.get("text")[e["start"] : e["end"]])
            for e in message.get("entities") or []
        )
        gold.append(GoldMessage(text=message.get("text"), label=str(label), entities=entities))
    return gold


def label_of(parse: dict[str, Any]) -> str:
    """The label a parse stands for: the intent, or faq/<key> from the response selector."""
    name = str((parse.get("intent") or {}).get("name") or "")
    if name == RETRIEVAL_INTENT:
        selected = (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
        key = (selected.get("response") or {}).get("intent_response_key")
        if key:
            return str(key)
    return name


def _node_before(schema: Any, component: str) -> str | None:
    """Name of the graph node whose messages feed `component` (None if the model has no such component)."""
    for node in schema.nodes.values():
        uses = node.uses
        if f"{uses.__module__}.{uses.__name__}" == component:
            return node.needs.get("messages")
    return None


async def _parse_sets(model_path: Path, texts: dict[str, list[str]]) -> dict[str, tuple[list, list, list[float]]]:
    """Parse every text of every set with one loaded model; per set the classifier's view, the final parse and
    the final parse's latency (ms)."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER

    from bot.rasa_ext import speedups as rasa_speedups

    rasa_speedups.apply()  # load and predict as the served Rasa does (same results, less time)
    agent = Agent.load(str(model_path))
    processor = agent.processor
    assert processor is not None
    before_override = _node_before(processor.model_metadata.predict_schema, DANGER_COMPONENT)
    await agent.parse_message("hei")  # warm-up: the first call builds TensorFlow functions
    parsed: dict[str, tuple[list, list, list[float]]] = {}
    for name, set_texts in texts.items():
        raw: list[dict[str, Any]] = []
        final: list[dict[str, Any]] = []
        latencies: list[float] = []
        for text in set_texts:
            started = time.perf_counter()
            parse = await agent.parse_message(text)
            latencies.append((time.perf_counter() - started) * 1000.0)
            final.append(parse)
            if before_override is None:
                raw.append(parse)
                continue
            # A separate run, because DangerOverride changes the very Message objects its upstream node returns.
            results = processor.graph_runner.run(
                inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: None},
                targets=[before_override],
            )
            raw.append({"text": text, **results[before_override][0].as_dict(only_output_properties=True)})
        parsed[name] = (raw, final, latencies)
    return parsed


def _f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def score(gold: list[GoldMessage], raw: list[dict], final: list[dict], latencies: list[float]) -> Scores:
    """Compare parses with the gold annotations. `raw` is the classifier's view, `final` after the detector.

    Intent figures describe the classifier (the label includes the faq sub-intent chosen by the ResponseSelector);
    entity, municipality and danger figures describe the final parse.
    """
    from sklearn.metrics import f1_score

    from catalog.municipalities import resolve_municipality

    result = Scores(messages=len(gold))
    gold_labels = [g.label for g in gold]
    classified = [label_of(p) for p in raw]
    predicted = [label_of(p) for p in final]
    labels = sorted(set(gold_labels))

    def merged(label: str) -> str:
        return label.split("/", 1)[0]

    def macro_f1(expected: list[str], got: list[str]) -> float:
        return float(f1_score(expected, got, labels=sorted(set(expected)), average="macro", zero_division=0))

    result.intent_accuracy = sum(g == p for g, p in zip(gold_labels, classified, strict=True)) / len(gold)
    result.intent_macro_f1 = macro_f1(gold_labels, classified)
    result.intent_macro_f1_faq_merged = macro_f1([merged(g) for g in gold_labels], [merged(p) for p in classified])
    result.final_intent_accuracy = sum(g == p for g, p in zip(gold_labels, predicted, strict=True)) / len(gold)
    result.final_intent_macro_f1 = macro_f1(gold_labels, predicted)
    assert labels  # the held-out set is not empty
    result.predictions = [
        {"text": g.text, "expected": g.label, "predicted": p,
         "ranking": [(r.get("name"), round(float(r.get("confidence") or 0.0), 3))
                     for r in (parse.get("intent_ranking") or [])[:3]]}
        for g, p, parse in zip(gold, classified, raw, strict=True)
    ]
    result.intent_errors = [
        {"text": g.text, "expected": g.label, "predicted": p}
        for g, p in zip(gold, classified, strict=True) if g.label != p
    ]

    # Entities: exact spans (type, start, end) of the final output; mentions the normaliser found by text search
    # carry no span and are judged by the municipality figure instead.
    counts: dict[str, Counter] = {}
    for g, parse in zip(gold, final, strict=True):
        expected = {(e, s, t) for e, s, t, _ in g.entities}
        found = {(e["entity"], e["start"], e["end"]) for e in parse.get("entities") or [] if "start" in e}
        for entity in {e for e, _, _ in expected | found}:
            c = counts.setdefault(entity, Counter())
            c["tp"] += len({x for x in expected & found if x[0] == entity})
            c["fp"] += len({x for x in found - expected if x[0] == entity})
            c["fn"] += len({x for x in expected - found if x[0] == entity})
    result.entity_f1_by_type = {k: round(_f1(c["tp"], c["fp"], c["fn"]), 4) for k, c in sorted(counts.items())}
    total = sum(counts.values(), Counter())
    result.entity_f1 = _f1(total["tp"], total["fp"], total["fn"])

    # Municipality: the set of final values must equal the resolver's canonical names of the annotated text.
    correct = 0
    for g, parse in zip(gold, final, strict=True):
        annotated = [surface for e, _, _, surface in g.entities if e == MUNICIPALITY]
        values = {str(e.get("value")) for e in parse.get("entities") or [] if e.get("entity") == MUNICIPALITY}
        if not annotated:
            if values:
                result.municipality_false_alarms.append({"text": g.text, "predicted": sorted(values)})
            continue
        resolved = [resolve_municipality(surface) for surface in annotated]
        if any(m is None for m in resolved):
            result.municipality_unresolvable.append(g.text)
            continue
        expected_names = {m.name_fi for m in resolved if m is not None}
        result.municipality_messages += 1
        if values == expected_names:
            correct += 1
        else:
            result.municipality_errors.append(
                {"text": g.text, "expected": sorted(expected_names), "predicted": sorted(values)}
            )
    result.municipality_accuracy = correct / result.municipality_messages if result.municipality_messages else 0.0

    # Danger: every violence_* message must land on some violence_* intent (which one is the dialogue's business).
    danger = [i for i, g in enumerate(gold) if g.label.startswith(VIOLENCE_PREFIX)]
    result.danger_messages = len(danger)
    if danger:
        result.danger_recall_classifier = sum(classified[i].startswith(VIOLENCE_PREFIX) for i in danger) / len(danger)
        result.danger_recall = sum(routes_danger(predicted[i]) for i in danger) / len(danger)
    result.danger_misses = [
        {"text": gold[i].text, "expected": gold[i].label, "predicted": predicted[i]}
        for i in danger if not routes_danger(predicted[i])
    ]
    result.false_danger = [
        {"text": g.text, "expected": g.label, "predicted": p}
        for g, p in zip(gold, predicted, strict=True)
        if routes_danger(p) and not g.label.startswith(VIOLENCE_PREFIX)
    ]

    result.latency_ms_p50 = statistics.median(latencies)
    result.latency_ms_p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
    return result


def evaluate_sets(model_path: Path, sets: dict[str, Path]) -> dict[str, Scores]:
    """Parse every message of every set with a trained model, loaded once, and score both views per set."""
    gold = {name: load_test_set(path) for name, path in sets.items()}
    parsed = asyncio.run(_parse_sets(model_path, {name: [g.text for g in msgs] for name, msgs in gold.items()}))
    return {name: score(gold[name], *parsed[name]) for name in sets}


def evaluate_model(model_path: Path, test_set: Path = TEST_SET) -> Scores:
    """Parse every message of one set with a trained model and score both views."""
    return evaluate_sets(model_path, {"set": test_set})["set"]


def train_nlu_model(config: Path, out_dir: Path, name: str) -> tuple[Path, float]:
    """Train an NLU-only model from data/nlu (never the test set) and return its path and wall-clock seconds."""
    from rasa.model_training import train_nlu

    started = time.monotonic()
    model = train_nlu(
        config=str(config), nlu_data=str(NLU_DATA), output=str(out_dir), fixed_model_name=name,
        domain=str(DOMAIN) if DOMAIN.exists() else None,
    )
    elapsed = time.monotonic() - started
    if not model:
        raise RuntimeError(f"training failed for {config}")
    return Path(model), elapsed


def run_candidate(key: str, config: Path, workdir: Path) -> Scores:
    model, seconds = train_nlu_model(config, workdir, f"bench-{key}")
    scores = evaluate_model(model)
    scores.train_seconds = seconds
    return scores


def render_table(results: dict[str, Scores], names: dict[str, str]) -> str:
    """A Markdown table, one row per candidate."""
    header = (
        "| pipeline | intent acc | intent macro-F1 | macro-F1 (faq merged) | macro-F1 after detector | entity F1"
        " | municipality acc | danger recall (classifier) | danger recall (+ detector) | false danger"
        " | train s | p50 ms | p95 ms |"
    )
    rows = [header, "|" + "---|" * 13]
    for key, s in results.items():
        rows.append(
            f"| ({key}) {names[key]} | {s.intent_accuracy:.3f} | {s.intent_macro_f1:.3f}"
            f" | {s.intent_macro_f1_faq_merged:.3f} | {s.final_intent_macro_f1:.3f} | {s.entity_f1:.3f}"
            f" | {s.municipality_accuracy:.3f} ({s.municipality_messages}) | {s.danger_recall_classifier:.3f}"
            f" | {s.danger_recall:.3f} ({s.danger_messages}) | {len(s.false_danger)}"
            f" | {s.train_seconds or 0:.0f} | {s.latency_ms_p50:.0f} | {s.latency_ms_p95:.0f} |"
        )
    return "\n".join(rows)


def _quiet() -> None:
    """Keep errors, drop Rasa's per-message debug lines and data warnings (`rasa data validate` reports those)."""
    import logging
    import warnings

    from rasa.utils.log_utils import configure_structlog

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    configure_structlog(logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(CANDIDATES), help="candidate key; repeatable")
    parser.add_argument("--config", type=Path, help="benchmark one extra config file (key 'x')")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "var" / "bench" / "nlu_results.json",
                        help="where to write full results with the failure lists")
    parser.add_argument("--model", type=Path, help="score this trained model instead of training candidates")
    parser.add_argument("--held-out", action="store_true", help="with --model: every set in HELD_OUT_SETS")
    parser.add_argument("--per-language", action="store_true",
                        help="train config.yml on each language's data alone and score it on that language's set")
    args = parser.parse_args(argv)

    _quiet()
    if args.per_language:
        return _per_language(args.json)
    if args.model:
        return _score_trained(args.model, HELD_OUT_SETS if args.held_out else {"test_set": TEST_SET}, args.json)
    if not GENERATED_LOOKUP.exists():
        print(f"note: {GENERATED_LOOKUP.relative_to(REPO_ROOT)} is missing; generate it first with "
              "`.venv/bin/python -m bot nlu-lookups --out data/nlu/generated/municipalities.yml`", file=sys.stderr)

    chosen = {k: CANDIDATES[k] for k in (args.only or sorted(CANDIDATES)) if CANDIDATES[k].exists()}
    if args.config:
        chosen["x"] = args.config
    results: dict[str, Scores] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as tmp:
        for key, config in chosen.items():
            print(f"== ({key}) {config.relative_to(REPO_ROOT) if config.is_relative_to(REPO_ROOT) else config}",
                  flush=True)
            results[key] = run_candidate(key, config, Path(tmp))
            s = results[key]
            print(f"   intent macro-F1 {s.intent_macro_f1:.3f}, municipality {s.municipality_accuracy:.3f}, "
                  f"danger recall {s.danger_recall:.3f}, trained in {s.train_seconds:.0f} s", flush=True)

    names = {k: v.stem for k, v in chosen.items()}
    table = render_table(results, names)
    print()
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(
        {k: {"config": str(chosen[k].relative_to(REPO_ROOT)) if chosen[k].is_relative_to(REPO_ROOT) else str(chosen[k]),
             **asdict(v)} for k, v in results.items()},
        ensure_ascii=False, indent=1,
    ), encoding="utf-8")
    print(f"\nFull results with failure lists: {args.json}")
    return 0


PER_LANGUAGE_SETS = {"fi": "fi_2026-12-07", "sv": "sv_2026-12-07", "en": "en_2026-12-07"}


def _language_data(language: str, into: Path) -> Path:
    """A data folder with one language's training files and the generated place-name lookups."""
    into.mkdir(parents=True)
    sources = sorted(NLU_DATA.glob("*.yml")) if language == "fi" else sorted((NLU_DATA / language).glob("*.yml"))
    for source in [*sources, GENERATED_LOOKUP]:
        (into / f"{source.parent.name}-{source.name}").write_text(source.read_text(encoding="utf-8"),
                                                                 encoding="utf-8")
    return into


def _per_language(out: Path) -> int:
    """One model per language, as the alternative to the one multilingual model (issue 16: choose by benchmark).
    The Finnish files hold a few Swedish and English lines, which stay with the Finnish model."""
    from rasa.model_training import train_nlu

    results: dict[str, Scores] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-lang-") as tmp:
        for language, set_name in PER_LANGUAGE_SETS.items():
            data = _language_data(language, Path(tmp) / f"data-{language}")
            started = time.monotonic()
            model = train_nlu(config=str(REPO_ROOT / "config.yml"), nlu_data=str(data), output=tmp,
                              fixed_model_name=f"nlu-{language}", domain=str(DOMAIN))
            if not model:
                raise RuntimeError(f"training failed for {language}")
            results[language] = evaluate_model(Path(model), HELD_OUT_SETS[set_name])
            results[language].train_seconds = time.monotonic() - started
            s = results[language]
            print(f"{language}: merged macro-F1 {s.intent_macro_f1_faq_merged:.3f}, macro-F1 {s.intent_macro_f1:.3f}, "
                  f"danger routing {s.danger_recall:.3f}, NLU trained in {s.train_seconds:.0f} s", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({k: asdict(v) for k, v in results.items()}, ensure_ascii=False, indent=1),
                   encoding="utf-8")
    return 0


def _score_trained(model: Path, sets: dict[str, Path], out: Path) -> int:
    """One row per held-out set for a model already trained (`make model`): the per-language figures."""
    results = evaluate_sets(model, sets)
    print(f"{'set':<14} {'msgs':>5} {'macro-F1':>9} {'merged':>7} {'acc':>6} {'muni':>6} {'danger':>7} {'p95 ms':>7}")
    for name, s in results.items():
        print(f"{name:<14} {s.messages:>5} {s.intent_macro_f1:>9.3f} {s.intent_macro_f1_faq_merged:>7.3f} "
              f"{s.intent_accuracy:>6.3f} {s.municipality_accuracy:>6.3f} "
              f"{s.danger_recall:>7.3f} {s.latency_ms_p95:>7.1f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({k: asdict(v) for k, v in results.items()}, ensure_ascii=False, indent=1),
                   encoding="utf-8")
    print(f"\nFull results with failure lists: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
