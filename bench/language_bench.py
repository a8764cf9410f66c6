"""Language detection benchmark (issue 16): what core/language.py costs per message and how often it is right.

    .venv/bin/python bench/language_bench.py            # development sentences (data/nlu) only
    .venv/bin/python bench/language_bench.py --held-out # also the held-out NLU sets, for reporting only

Cost: the time of `language.choose` per message (detection plus the decision), after one warm-up, over every
training sentence of the three languages; goal under 2 ms at p95. Accuracy: a sentence's language is the folder it
lives in (data/nlu/ for Finnish, data/nlu/sv/, data/nlu/en/); for a held-out set, the set's language. Finnish
files hold a few Swedish and English lines and the held-out Finnish set about 16 % of them, so their figures count
those as "wrong" and understate accuracy a little. The decision is shown for a new conversation on a Finnish page
(what a Swedish speaker meets first) and as a switch inside a Finnish conversation.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from core import language  # noqa: E402

NLU = REPO_ROOT / "data" / "nlu"
HELD_OUT = {
    "fi": REPO_ROOT / "tests" / "nlu" / "heldout_2026-12-07.yml",
    "sv": REPO_ROOT / "tests" / "nlu" / "heldout_sv_2026-12-07.yml",
    "en": REPO_ROOT / "tests" / "nlu" / "heldout_en_2026-12-07.yml",
}
_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: list[str] = []
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(_MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]).strip())
    return [e for e in out if e]


def development() -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {"fi": [], "sv": [], "en": []}
    for path in sorted(NLU.glob("*.yml")):
        by_lang["fi"] += examples(path)
    for lang in ("sv", "en"):
        for path in sorted((NLU / lang).glob("*.yml")):
            by_lang[lang] += examples(path)
    return by_lang


def report(name: str, by_lang: dict[str, list[str]]) -> list[float]:
    timings: list[float] = []
    print(f"== {name}")
    print(f"{'lang':<5} {'msgs':>5} {'new conv.':>10} {'switch':>8} {'stays':>7}")
    for lang, sentences in by_lang.items():
        if not sentences:
            continue
        first = switched = stayed = 0
        for sentence in sentences:
            start = time.perf_counter()
            first += language.choose(sentence, None, "fi") == lang
            timings.append((time.perf_counter() - start) * 1000)
            other = "sv" if lang == "fi" else "fi"
            switched += language.choose(sentence, other, "fi") == lang
            stayed += language.choose(sentence, lang, "fi") == lang
        n = len(sentences)
        print(f"{lang:<5} {n:>5} {first / n:>10.3f} {switched / n:>8.3f} {stayed / n:>7.3f}")
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", action="store_true", help="also report on the held-out NLU sets")
    args = parser.parse_args(argv)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    language.warm_up()
    load_s = time.perf_counter() - start
    memory_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"models loaded in {load_s:.2f} s, resident memory +{memory_mb:.0f} MB")
    print("'new conv.': a first message on a Finnish page; 'switch': after another language; 'stays': same one.")
    timings = report("development sentences (data/nlu)", development())
    if args.held_out:
        timings += report("held-out sets (reporting only)", {k: examples(p) for k, p in HELD_OUT.items()})
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"\nper message: p50 {statistics.median(timings):.3f} ms, p95 {p95:.3f} ms, max {timings[-1]:.3f} ms "
          f"over {len(timings)} messages (goal p95 < 2 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
