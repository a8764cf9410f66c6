"""A change to any code a trained component uses retrains the model (bot/ops/train_inputs.py and the Makefile)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.train_inputs import component_modules, train_inputs

REPO = Path(__file__).resolve().parent.parent
OURS = ("actions", "bot", "catalog", "core")

LOADED_BY_COMPONENTS = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m.__file__ for n, m in list(sys.modules.items())
                        if n.split(".")[0] in {ours} and getattr(m, "__file__", None))))
"""


def _make_plans_training(*what_if: str) -> bool:
    """Whether make would train the model if these files had just changed (`make -W`, nothing is run)."""
    argv = ["make", "--no-print-directory", "-n", *(f"-W{path}" for path in what_if), "model"]
    plan = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True).stdout
    return "bot train" in plan


def test_every_module_the_components_load_is_a_training_input() -> None:
    """Found by importing the components in a fresh interpreter, not by the AST walk the Makefile uses."""
    modules = component_modules(REPO / "config.yml")
    assert "bot.rasa_ext.components.danger" in modules and len(modules) >= 4
    script = LOADED_BY_COMPONENTS.format(ours=set(OURS))
    out = subprocess.run([sys.executable, "-c", script, *modules], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=300).stdout
    loaded = {Path(path).resolve() for path in json.loads(out.strip().splitlines()[-1])}
    inputs = {path.resolve() for path in train_inputs()}
    assert loaded, "the components loaded none of our modules"
    missing = sorted(str(path.relative_to(REPO)) for path in loaded - inputs)
    assert not missing, f"code the trained components run is not a training input: {missing}"


def test_training_inputs_cover_data_domain_config_and_the_pattern_files() -> None:
    names = {path.relative_to(REPO).as_posix() for path in train_inputs()}
    assert {"config.yml", "domain.yml", "data/nlu/triage.yml", "bot/safety/data/danger_patterns.yml",
            "bot/safety/data/crisis_patterns.yml", "catalog/data/municipalities.csv"} <= names
    assert not any(name.startswith("data/nlu/generated/") for name in names)  # make's own target
    assert "bot/web/app.py" not in names and "actions/actions.py" not in names


@pytest.mark.parametrize("changed", ["bot/rasa_ext/components/voikko_tokenizer.py", "bot/safety/triage.py",
                                     "catalog/municipalities.py", "bot/safety/data/young_writer_patterns.yml",
                                     "data/nlu/triage.yml", "config.yml"])
def test_make_retrains_when_an_input_changes(changed: str) -> None:
    assert _make_plans_training(changed)


@pytest.mark.model  # after training: make test runs it once the model is fresh
def test_make_does_not_retrain_for_code_no_component_runs() -> None:
    if _make_plans_training():
        pytest.skip("the model is older than its inputs here, so make would train anyway")
    assert not _make_plans_training("bot/web/app.py", "actions/actions.py", "README.md")
