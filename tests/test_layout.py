"""The layout rules of DESIGN.md ("Where the code should be heading"), checked from the code's own imports.

The folder a file is in tells which process runs it; these rules keep it so: the shared core imports nothing of
ours, the catalogue no chat code, and nothing but its entry point reaches into the web app.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ops.train_inputs import OUR_PACKAGES, imported_modules

REPO = Path(__file__).resolve().parent.parent
PACKAGES = OUR_PACKAGES
MAX_MODULE_LINES = 450


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py")
                  if "migrations" not in p.relative_to(REPO).parts)


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    return imported_modules(path)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


#: For each part of the code, the parts it may import (itself always included).
ALLOWED: dict[str, tuple[str, ...]] = {
    "core": (),
    "catalog": ("core",),
    "bot.safety": ("core",),
    "bot.callbacks": ("core",),
    "bot.stats": ("core",),
    "bot.rasa_ext": ("core", "catalog", "bot.safety"),
    "bot.web": ("core", "catalog", "bot.safety", "bot.callbacks", "bot.stats"),
    "bot.ops": ("core", "catalog", "bot.safety", "bot.callbacks", "bot.stats", "bot.rasa_ext", "bot.ops"),
    "actions": ("core", "catalog", "bot.safety", "bot.callbacks", "bot.stats"),
}


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_imports_follow_the_layers(path: Path) -> None:
    module = _module(path)
    if module in ("bot", "bot.__main__"):  # the package face and the entry point reach every part by design
        return
    part = next((p for p in sorted(ALLOWED, key=len, reverse=True) if _within(module, (p,))), None)
    assert part is not None, f"{module} is in no part of the layout; add it to a part (DESIGN.md, README)"
    allowed = (part, *ALLOWED[part])
    wrong = sorted(name for name in _imports(path) if not _within(name, allowed) and name != "bot")
    assert not wrong, f"{module} ({part}) imports {wrong}; it may import only {allowed}"


def test_nothing_but_the_entry_point_imports_the_web_app() -> None:
    importers = sorted(_module(p) for p in _sources()
                       if not _within(_module(p), ("bot.web",)) and any(_within(n, ("bot.web",)) for n in _imports(p)))
    assert importers == ["bot.__main__"]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_module_is_over_the_line_limit(path: Path) -> None:
    # A module that grows past this does more than one thing: split it along a seam (DESIGN.md layout).
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{lines} lines; at most {MAX_MODULE_LINES}: split the module"
