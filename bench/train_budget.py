"""Training budget: how much DIET training the NLU needs, chosen on a development split of the training data.

    .venv/bin/python bench/train_budget.py                     # every variant below
    .venv/bin/python bench/train_budget.py --only base --only e20

Training time is most of a clean-clone CI run (issue 18), and most of training is DIET. This script splits
data/nlu 80/20 by intent (Rasa's own stratified split, fixed seed), trains config.yml's NLU with each variant on
the 80 % and scores it on the 20 %. The held-out sets in tests/nlu are never read here: a budget chosen on them
would be tuned on them. The figures compare variants with each other; they are not the NLU's quality (the split's
two halves were written by the same people), which bench/nlu_bench.py measures on the held-out sets.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from bench import nlu_bench  # noqa: E402  (sets Rasa's environment before Rasa is imported)

CONFIG = REPO_ROOT / "config.yml"
SPLIT_SEED = 20261207
CHAR_NGRAMS = {"analyzer": "char_wb"}

FAQ = "bot.rasa_ext.components.faq_selector.FaqResponseSelector"


def _budget(min_df: int, diet: int, faq: int, faq_dense: int = 512,
            batch: tuple[int, int] = (64, 256)) -> dict[str, dict[str, Any]]:
    """faq_dense: the FAQ selector's layer from the sparse features (Rasa's ResponseSelector default is 512 for text
    and label, DIET's 128): with three languages' character n-grams it was most of the model file. batch: the
    batch size growing from the first to the last epoch (Rasa's default 64 to 256); fewer, larger steps."""
    dense = {"text": faq_dense, "label": faq_dense}
    return {"char": {"min_df": min_df}, "DIETClassifier": {"epochs": diet, "batch_size": list(batch)},
            FAQ: {"epochs": faq, "dense_dimension": dense, "concat_dimension": dense, "batch_size": list(batch)}}


#: name -> options per component ("char" is the character n-gram featurizer), each set in full so that a run
#: measures the same variants whatever config.yml holds now. The first is the budget before 2026-12-07.
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "e60-faq40": _budget(1, 60, 40),
    "e30-faq40": _budget(1, 30, 40),
    "e20-faq40": _budget(1, 20, 40),
    "df2-e30-faq40": _budget(2, 30, 40),
    "df2-e20-faq20": _budget(2, 20, 20),
    "df2-e20-faq20-d128": _budget(2, 20, 20, faq_dense=128),
    "df2-e20-faq20-d128-b256": _budget(2, 20, 20, faq_dense=128, batch=(256, 512)),
}


def variant_config(overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """config.yml's NLU pipeline with a variant's options, and no dialogue policies (not timed here)."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config.pop("policies", None)
    for component in config["pipeline"]:
        is_char = all(component.get(k) == v for k, v in CHAR_NGRAMS.items())
        component.update(overrides.get("char", {}) if is_char else {})
        component.update(overrides.get(component["name"], {}))
    return config


def split_data(into: Path) -> tuple[Path, Path]:
    """Write the 80 % training part (with lookups, synonyms and regexes) and the 20 % development part."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(nlu_bench.NLU_DATA))
    train, dev = data.train_test_split(train_frac=0.8, random_seed=SPLIT_SEED)
    train_dir = into / "train"
    train_dir.mkdir(parents=True)
    train_file, dev_file = train_dir / "nlu.yml", into / "dev.yml"
    train_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
    dev_file.write_text(dev.nlu_as_yaml(), encoding="utf-8")
    return train_dir, dev_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(VARIANTS), help="variant; repeatable")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "var" / "bench" / "train_budget.json")
    args = parser.parse_args(argv)
    nlu_bench._quiet()
    from rasa.model_training import train_nlu

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="train-budget-") as tmp:
        train_dir, dev_file = split_data(Path(tmp))
        print(f"{'variant':<15} {'train s':>8} {'merged F1':>10} {'macro-F1':>9} {'acc':>6} {'muni':>6} {'danger':>7}",
              flush=True)
        for name in args.only or list(VARIANTS):
            config_file = Path(tmp) / f"config-{name}.yml"
            config_file.write_text(yaml.safe_dump(variant_config(VARIANTS[name]), allow_unicode=True),
                                   encoding="utf-8")
            started = time.monotonic()
            model = train_nlu(config=str(config_file), nlu_data=str(train_dir), output=tmp,
                              fixed_model_name=f"budget-{name}", domain=str(nlu_bench.DOMAIN))
            seconds = time.monotonic() - started
            if not model:
                raise RuntimeError(f"training failed for {name}")
            s = nlu_bench.evaluate_model(Path(model), dev_file)
            results[name] = {"train_seconds": seconds, "merged_macro_f1": s.intent_macro_f1_faq_merged,
                             "macro_f1": s.intent_macro_f1, "accuracy": s.intent_accuracy,
                             "danger_routing": s.danger_recall, "municipality": s.municipality_accuracy,
                             "model_mb": Path(model).stat().st_size / 2**20}
            print(f"{name:<15} {seconds:>8.0f} {s.intent_macro_f1_faq_merged:>10.3f} {s.intent_macro_f1:>9.3f} "
                  f"{s.intent_accuracy:>6.3f} {s.municipality_accuracy:>6.3f} {s.danger_recall:>7.3f}  "
                  f"({results[name]['model_mb']:.0f} MB)",
                  flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
