"""Near-copies between the held-out NLU sets and the training data (issue 15).

A held-out message counts as leaked when, after normalising both (lower case, no diacritics, no entity markup,
no punctuation, municipality names replaced by one token), it matches a training example with a similarity of at
least NEAR_COPY_RATIO (rapidfuzz's normalised Indel ratio, 0–100), whatever its length. Such a message measures
memory, not understanding, so it is removed from the held-out set:

    .venv/bin/python tests/nlu/leaks.py           # counts per held-out file, never the messages
    .venv/bin/python tests/nlu/leaks.py --remove  # drop the leaked messages from the held-out files

Only counts are printed: whoever tunes the training data must not read the held-out messages.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from catalog.municipalities import known_forms  # noqa: E402
from core.finnish import fold  # noqa: E402

TRAINING = REPO / "data" / "nlu"
HELD_OUT = sorted((REPO / "tests" / "nlu").glob("*.yml"))
NEAR_COPY_RATIO = 90.0
PLACE = "<kunta>"
_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
_EXAMPLE = re.compile(r"^([ \t]+- )(.+)$")


def plain(example: str) -> str:
    return _MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", example)


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    return frozenset(fold(form) for form in known_forms())


def normalise(example: str) -> str:
    words = re.findall(r"[a-z0-9]+", fold(plain(example)))
    return " ".join(PLACE if word in _places() else word for word in words)


def examples(path: Path) -> list[str]:
    return [m.group(2) for line in path.read_text(encoding="utf-8").splitlines() if (m := _EXAMPLE.match(line))]


def training_examples(root: Path = TRAINING) -> list[str]:
    """Every example under data/nlu except the generated lookup tables (place names, not sentences)."""
    return [e for path in sorted(root.rglob("*.yml")) if "generated" not in path.parts for e in examples(path)]


def leaked(held_out: Iterable[str], training: Iterable[str]) -> list[int]:
    """Indexes of the held-out examples that nearly copy a training example."""
    from rapidfuzz import fuzz, process

    train = sorted({normalise(t) for t in training})
    found = []
    for index, example in enumerate(held_out):
        text = normalise(example)
        if process.extractOne(text, train, scorer=fuzz.ratio, score_cutoff=NEAR_COPY_RATIO) is not None:
            found.append(index)
    return found


def remove_leaks(path: Path, training: list[str]) -> int:
    """Rewrite a held-out file without its leaked examples; returns how many were removed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    example_lines = [i for i, line in enumerate(lines) if _EXAMPLE.match(line.rstrip("\n"))]
    drop = {example_lines[i] for i in leaked([_EXAMPLE.match(lines[i].rstrip("\n")).group(2)  # type: ignore[union-attr]
                                              for i in example_lines], training)}
    path.write_text("".join(line for i, line in enumerate(lines) if i not in drop), encoding="utf-8")
    return len(drop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remove", action="store_true", help="drop leaked messages from the held-out files")
    args = parser.parse_args(argv)
    training = training_examples()
    for path in HELD_OUT:
        held = examples(path)
        if args.remove:
            removed = remove_leaks(path, training)
            print(f"{path.name}: removed {removed} of {len(held)}")
        else:
            print(f"{path.name}: {len(leaked(held, training))} of {len(held)} nearly copy training examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
