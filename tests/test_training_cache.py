"""Rasa's training cache is shared by every clone on the machine, one folder per version of the code it cannot see."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bot.ops import train as training
from bot.ops.train_inputs import PREDICTION_ONLY_COMPONENTS

COMPONENT = "bot/rasa_ext/components/tokenizer.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny project: one custom component in the config, which imports a helper module of ours."""
    root = tmp_path / "project"
    files = {
        "config.yml": "pipeline:\n  - name: bot.rasa_ext.components.tokenizer.Tokenizer\n  - name: DIETClassifier\n",
        "domain.yml": "intents: [hello]\n",
        "data/nlu/hello.yml": "nlu:\n- intent: hello\n  examples: |\n    - moi\n",
        "bot/__init__.py": "", "bot/rasa_ext/__init__.py": "", "bot/rasa_ext/components/__init__.py": "",
        COMPONENT: "from core.finnish import fold\n\nclass Tokenizer:\n    pass\n",
        "core/__init__.py": "", "core/finnish.py": "def fold(text):\n    return text.lower()\n",
        "bot/web/app.py": "print('not a training input')\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _edit(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_code_the_components_import_changes_the_cache_folder(project: Path) -> None:
    before = training.code_fingerprint(project)
    _edit(project / "core/finnish.py", "\n# folds differently now\n")
    assert training.code_fingerprint(project) != before


def test_data_domain_config_and_unrelated_code_keep_the_folder(project: Path) -> None:
    """Rasa fingerprints these itself: a new story retrains the policies, and DIET comes from the cache."""
    before = training.code_fingerprint(project)
    _edit(project / "data/nlu/hello.yml", "    - terve\n")
    _edit(project / "domain.yml", "responses: {}\n")
    _edit(project / "config.yml", "policies: []\n")
    _edit(project / "bot/web/app.py", "# the web app trains nothing\n")
    assert training.code_fingerprint(project) == before


def test_code_that_acts_only_at_parse_time_keeps_the_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.ops import train_inputs

    (project / "config.yml").write_text((project / "config.yml").read_text(encoding="utf-8")
                                        + "  - name: bot.rasa_ext.components.danger.DangerOverride\n", encoding="utf-8")
    (project / "bot/rasa_ext/components/danger.py").write_text("class DangerOverride:\n    pass\n", encoding="utf-8")
    before = training.code_fingerprint(project)
    _edit(project / "bot/rasa_ext/components/danger.py", "# a new safety rule\n")
    assert training.code_fingerprint(project) == before
    monkeypatch.setattr(train_inputs, "PREDICTION_ONLY_COMPONENTS", frozenset())
    assert training.code_fingerprint(project) != before


@pytest.mark.parametrize("module", sorted(PREDICTION_ONLY_COMPONENTS))
def test_prediction_only_components_neither_learn_nor_change_the_training_data(module: str) -> None:
    """What lets their code stay out of the cache's fingerprint."""
    import importlib

    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    loaded = importlib.import_module(module)
    classes = [c for c in vars(loaded).values()
               if isinstance(c, type) and c.__module__ == module and hasattr(c, "process_training_data")]
    assert classes, module
    for component in classes:
        assert DefaultV1Recipe._registered_components[component.__name__].is_trainable is False
        data = TrainingData([Message(data={"text": "mies löi minua Kempeleessä", "intent": "violence_experiencing"})])
        before = data.fingerprint()
        assert component.__new__(component).process_training_data(data) is data
        assert data.fingerprint() == before


def test_cache_folder_from_the_setting(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fingerprint = training.code_fingerprint(project)
    monkeypatch.setenv(training.CACHE_SETTING, "off")
    assert training.training_cache_dir(project) is None
    monkeypatch.setenv(training.CACHE_SETTING, str(tmp_path / "shared"))
    assert training.training_cache_dir(project) == tmp_path / "shared" / fingerprint
    monkeypatch.delenv(training.CACHE_SETTING)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert training.training_cache_dir(project) == tmp_path / "xdg" / "perheopas" / "rasa-training" / fingerprint


def test_prune_keeps_the_most_recently_used_versions(tmp_path: Path) -> None:
    now = time.time()
    for age, name in enumerate(["a", "b", "c", "d", "e"]):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - 100 * (age + 1), now - 100 * (age + 1)))
    removed = training.prune_cache(tmp_path / "e", keep=3)  # e was the oldest; using it makes it the newest
    assert sorted(p.name for p in removed) == ["c", "d"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "e"]


def test_train_gives_rasa_the_shared_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only for the project's config; another config (a benchmark's variant) trains with Rasa's default."""
    seen: list[dict[str, Any]] = []

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if argv[0] == "dpkg-query":
            return subprocess.CompletedProcess(argv, 0, stdout="voikko-fi=2.5-1 ")
        seen.append(kwargs["env"])
        out = Path(argv[argv.index("--out") + 1])
        out.mkdir(parents=True, exist_ok=True)
        (out / "m.tar.gz").write_bytes(b"model")
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(training.subprocess, "run", fake_run)
    monkeypatch.setenv("PERHEOPAS_VAR", str(tmp_path / "var"))
    monkeypatch.setenv(training.CACHE_SETTING, str(tmp_path / "cache"))
    monkeypatch.delenv("RASA_CACHE_DIRECTORY", raising=False)
    assert training.train(tmp_path / "models", "m") == 0
    assert seen[-1]["RASA_CACHE_DIRECTORY"] == str(tmp_path / "cache" / training.code_fingerprint())
    assert (tmp_path / "cache" / training.code_fingerprint()).is_dir()
    assert training.train(tmp_path / "models", "m", config="bench/other.yml") == 0
    assert "RASA_CACHE_DIRECTORY" not in seen[-1]
