"""What a trained model depends on, so that `make model` retrains exactly when one of them changed.

That is Rasa's data, domain and config, the code of the pipeline's own components in config.yml followed through
its imports of our packages, and the data files that code reads. `python bot/ops/train_inputs.py` prints them for
the Makefile; it needs only the standard library, so make can run it before the virtualenv exists.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("actions", "bot", "catalog", "core")
GENERATED_NLU = "data/nlu/generated"
#: Components that neither learn nor change the training data: they pass it on untouched and act only when a message
#: is parsed, so their code cannot change what training makes (tests/test_training_cache.py checks both). make still
#: reruns training when they change (train_inputs), and Rasa's training cache then has every node.
PREDICTION_ONLY_COMPONENTS = frozenset({"bot.rasa_ext.components.danger", "bot.rasa_ext.components.municipality"})

#: Data files read at prediction time by the components' code (the triage patterns, the municipality index).
COMPONENT_DATA_GLOBS = (
    "bot/safety/data/*_patterns.yml",
    "catalog/data/municipalities.csv",
    "catalog/data/districts.yml",
)

_COMPONENT = re.compile(r"^\s*-\s*name:\s*((?:" + "|".join(OUR_PACKAGES) + r")(?:\.\w+)+)\.\w+\s*(?:#.*)?$", re.M)


def component_modules(config: Path) -> list[str]:
    """Our modules named as pipeline or policy components in a Rasa config (the class name dropped)."""
    return sorted(set(_COMPONENT.findall(config.read_text(encoding="utf-8"))))


def module_file(module: str, root: Path = REPO_ROOT) -> Path | None:
    """The file of one of our modules: a .py file or a package's __init__.py; None if there is none."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Modules of ours that a file imports, anywhere in it (functions too: a lazy import runs all the same)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OUR_PACKAGES}


def code_closure(modules: list[str], root: Path = REPO_ROOT) -> list[Path]:
    """The files of these modules, their parent packages' __init__ files, and everything they import of ours."""
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:depth]), root)
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(imported_modules(path))
    return sorted(seen)


def training_code(root: Path = REPO_ROOT) -> list[Path]:
    """The code whose change changes what training makes: the components that learn or shape the training data,
    through their imports. Rasa's fingerprints cannot see it (bot/ops/train.py)."""
    modules = [m for m in component_modules(root / "config.yml") if m not in PREDICTION_ONLY_COMPONENTS]
    return code_closure(modules, root)


def train_inputs(root: Path = REPO_ROOT) -> list[Path]:
    """Every file whose change must retrain the model (the generated municipality lookups are made's own target)."""
    config = root / "config.yml"
    paths = {config, root / "domain.yml"}
    paths.update(p for p in (root / "data").rglob("*.yml") if GENERATED_NLU not in p.relative_to(root).as_posix())
    paths.update(code_closure(component_modules(config), root))
    for pattern in COMPONENT_DATA_GLOBS:
        paths.update(root.glob(pattern))
    return sorted(p for p in paths if p.is_file())


def main() -> int:
    print(" ".join(p.relative_to(REPO_ROOT).as_posix() for p in train_inputs()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
