"""Floors for the production NLU on the held-out set, so a data or pipeline change cannot silently degrade it.

The slow tests use the model named by PERHEOPAS_NLU_MODEL if set, else models/perheopas.tar.gz when it is newer
than every training input (`make test` has just built it); otherwise they train an NLU-only model of config.yml
into a temporary folder (about 3 minutes on an idle 2-core machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from benches import load_bench

from bot.ops.train_inputs import train_inputs

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_MODEL = REPO_ROOT / "models" / "perheopas.tar.gz"

# Floors per held-out set (bench/nlu_bench.py HELD_OUT_SETS), each MARGIN under the figure measured with the
# served model (README, "NLU"): a data or pipeline change cannot slide unnoticed, and the margin absorbs the spread
# of retraining. These are floors, not goals: issue 15's goal is 0.95 merged macro-F1, issue 16's 0.90 for sv and
# en, and the danger routing of S1 is 100 %; the blind sets do not all meet them. Measured 2026-12-07 18:41 UTC,
# after the second data round and the training budget of bench/train_budget.py; the first round's figures were
# 0.889/0.798/0.870/0.836 merged and 0.988/0.915/0.912/0.917 danger routing for the first four sets.
MARGIN = 0.03
MEASURED = {  # set: (merged intent macro-F1, macro-F1 with faq sub-intents, danger routing)
    "test_set": (0.919, 0.914, 0.988),  # danger 85/86
    "fi_2026-12-07": (0.799, 0.783, 0.932),  # 55/59
    "sv_2026-12-07": (0.920, 0.911, 0.877),  # 50/57 (52/57 in the first round)
    "en_2026-12-07": (0.925, 0.924, 0.950),  # 57/60
    "fi_2026-12-07c": (0.866, 0.868, 0.979),  # 47/48
    "sv_2026-12-07c": (0.871, 0.872, 0.920),  # 46/50
    "en_2026-12-07c": (0.867, 0.868, 0.936),  # 44/47
}
MIN_DANGER_MESSAGES = 45  # each set keeps at least this many violence messages after cleaning
MUNICIPALITY_ACCURACY_FLOOR = 0.95
MIN_MUNICIPALITY_MESSAGES = 25  # each set keeps at least this many annotated places after cleaning


def _bench() -> ModuleType:
    return load_bench("nlu_bench")


def _fresh_production_model() -> Path | None:
    if not PRODUCTION_MODEL.exists():
        return None
    newest_input = max(p.stat().st_mtime for p in train_inputs())
    return PRODUCTION_MODEL if PRODUCTION_MODEL.stat().st_mtime >= newest_input else None


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory):  # -> dict[str, nlu_bench.Scores]
    bench = _bench()
    override = os.environ.get("PERHEOPAS_NLU_MODEL")
    model = Path(override) if override else _fresh_production_model()
    if model is None:
        model, _ = bench.train_nlu_model(REPO_ROOT / "config.yml", tmp_path_factory.mktemp("nlu-model"), "nlu")
    # evaluate_sets reads each message before DangerOverride (intent figures) and through it (danger figures).
    return bench.evaluate_sets(model, bench.HELD_OUT_SETS)


def _confusions(rows: list[dict]) -> str:
    """What went wrong, as counts of expected → predicted: never the held-out messages themselves, which whoever
    fixes the training data must not read."""
    pairs = Counter(f"{row.get('expected')} → {row.get('predicted')}" for row in rows)
    return "\n".join(f"  {count} × {pair}" for pair, count in pairs.most_common(15))


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MEASURED))
def test_intent_macro_f1_stays_above_floor(held_out, name: str) -> None:
    """Intent macro-F1 as `rasa test nlu` counts it (the retrieval intent faq is one intent), and the stricter
    figure with faq/<key> as separate labels."""
    scores = held_out[name]
    merged, strict, _ = MEASURED[name]
    assert scores.intent_macro_f1_faq_merged >= merged - MARGIN, (
        f"{name}: merged macro-F1 {scores.intent_macro_f1_faq_merged:.3f} < {merged - MARGIN:.3f}:\n"
        + _confusions(scores.intent_errors))
    assert scores.intent_macro_f1 >= strict - MARGIN, (
        f"{name}: macro-F1 with faq sub-intents {scores.intent_macro_f1:.3f} < {strict - MARGIN:.3f}:\n"
        + _confusions(scores.intent_errors))


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MEASURED))
def test_municipality_extraction_and_normalisation_stays_above_floor(held_out, name: str) -> None:
    scores = held_out[name]
    assert scores.municipality_messages >= MIN_MUNICIPALITY_MESSAGES, f"{name} lost its municipality annotations"
    assert scores.municipality_accuracy >= MUNICIPALITY_ACCURACY_FLOOR, (
        f"{name}: municipality accuracy {scores.municipality_accuracy:.3f} < {MUNICIPALITY_ACCURACY_FLOOR} "
        f"({len(scores.municipality_errors)} errors)")


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MEASURED))
def test_danger_messages_are_routed_to_a_safe_first_reply(held_out, name: str) -> None:
    """Safety rule S1 as measured: the share of held-out violence messages that end on an intent whose first reply
    gives 112 and Nollalinja (a violence_* intent, a child's danger reply or the crisis reply; nlu_bench
    SAFE_FOR_DANGER). The rule asks for all of them; the blind sets show it is not met (README, "Known limits"),
    so this guards the measured share."""
    scores = held_out[name]
    floor = MEASURED[name][2] - MARGIN
    assert scores.danger_messages >= MIN_DANGER_MESSAGES, f"{name} lost its violence messages"
    assert scores.danger_recall >= floor, (
        f"{name}: danger routing {scores.danger_recall:.3f} < {floor:.3f}:\n"
        + "\n".join(f"  {row.get('expected')} → {row.get('predicted')}"
                    for row in scores.danger_misses[:15]))


def test_no_held_out_message_nearly_copies_a_training_example() -> None:
    """A held-out set is only honest while none of its messages, of any length, nearly copies a training example
    (tests/nlu/leaks.py: similarity >= 90 after normalising, place names as one token). Fix a failure by rewriting
    the training example, never by reading the held-out message into the training data."""
    from leaks import HELD_OUT, examples, leaked, training_examples

    training = training_examples()
    found = {path.name: len(leaked(examples(path), training)) for path in HELD_OUT}
    assert len(found) >= 4 and not any(found.values()), f"near-copies per held-out file: {found}"


def test_rasa_data_validate_is_clean() -> None:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "TQDM_DISABLE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings",
         "--domain", "domain.yml", "--data", "data", "--config", "config.yml"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    output = (result.stdout + result.stderr).splitlines()
    problems = [line for line in output if ("UserWarning" in line or "ERROR" in line) and not _triage_only(line)]
    expected = [line for line in output if _triage_only(line)]
    # The safety triage's intents have no training examples on purpose (data/nlu/triage.yml), which Rasa reports
    # as a warning and so a failure under --fail-on-warnings; any other warning or error still fails.
    assert result.returncode == 0 or (expected and not [p for p in problems if "duplicated intents" not in p]), \
        "rasa data validate failed:\n" + "\n".join((problems or output)[-40:])


def _triage_only(line: str) -> bool:
    """Rasa's warning that an intent the triage sets deterministically has no NLU examples."""
    from bot.safety.triage import ROUTE_INTENTS

    return "is not found in the NLU training data" in line and any(
        f"'{intent}'" in line for intent in ROUTE_INTENTS.values())


@pytest.mark.parametrize(
    ("text", "lemmas"),
    [
        ("Etsin perhekahvilaa Kempeleessä", ["etsiä", "perhekahvila", "kempele"]),
        ("mies on lyönyt minua", ["mies", "olla", "lyödä", "minä"]),
        # puhekieli and typos are unknown to Voikko and keep their surface form
        ("tiiä mis kempeleesa", ["tiiä", "mis", "kempeleesa"]),
    ],
)
def test_voikko_tokenizer_sets_lemmas_and_keeps_offsets(text: str, lemmas: list[str]) -> None:
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_ext.components.voikko_tokenizer import VoikkoTokenizer

    voikko = VoikkoTokenizer(VoikkoTokenizer.get_default_config()).tokenize(Message(data={"text": text}), "text")
    plain = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).tokenize(
        Message(data={"text": text}), "text"
    )
    assert [t.lemma for t in voikko] == lemmas
    assert [(t.text, t.start, t.end) for t in voikko] == [(t.text, t.start, t.end) for t in plain]
