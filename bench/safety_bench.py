"""Safety triage benchmark: recall and false alarms of the triage layers on the independent sets, and what the
layers cost per message.

    .venv/bin/python bench/safety_bench.py                 # both sets, figures only
    .venv/bin/python bench/safety_bench.py --show-misses   # also the DEVELOPMENT set's misses (never held-out's)
    .venv/bin/python bench/safety_bench.py --model models/perheopas.tar.gz   # also the whole NLU's routing

With --model, each message is also parsed by the trained Rasa NLU, whose final intent (the classifier, then the
triage override) decides the first reply in the served bot: the "system" figures count a danger message as caught
when either layer routes it to a reply that gives 112 and Nollalinja (bench/nlu_bench.py routes_danger).

The sets in tests/safety_sets/ were written by a helper who had read neither the patterns nor the training data
(tests/safety_sets/README.md). `dev` is for tuning the patterns and training the learned model (bot/safety/learn.py);
`heldout` chose the learned model's thresholds and is otherwise for reporting; `fresh` and `fresh_2` are for
reporting only (`fresh_2` was written for the round after `fresh` had been looked at four times). This
script never prints a held-out or fresh message. Each split is scored twice: by the patterns alone and by the
triage as served (patterns and the learned model). tests/test_safety_sets.py holds the floors.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.safety.triage import (  # noqa: E402
    CLOSE_ONE,
    CRISIS,
    DANGER,
    HARM_THOUGHTS,
    NONE,
    YOUNG,
    YOUNG_DANGER,
    Triage,
    crisis_patterns,
    default_patterns,
    triage,
    triage_with,
    warm_up,
    young_patterns,
)

SETS = REPO / "tests" / "safety_sets"
SPLITS = ("dev", "heldout", "fresh", "fresh_2")


@dataclass
class Rate:
    """hits out of total, with the ids of the misses (indices into the set, never texts)."""

    hits: int = 0
    total: int = 0
    misses: list[int] = field(default_factory=list)

    def add(self, ok: bool, index: int) -> None:
        self.total += 1
        if ok:
            self.hits += 1
        else:
            self.misses.append(index)

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.value:6.1%} ({self.hits}/{self.total})"


def load(split: str) -> list[dict[str, Any]]:
    """Every message of a split: the files tests/safety_sets/<split>/*.yml, in name order."""
    items: list[dict[str, Any]] = []
    for path in sorted((SETS / split).glob("*.yml")):
        items += yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    return items


def expected_route(item: dict[str, Any]) -> str:
    """The route a message should take, from its labels (the same order as bot.safety.triage.route_for)."""
    crisis = item.get("crisis") or "none"
    if crisis in ("suicide", "self_harm"):
        return CRISIS
    if crisis == "harm_baby_thoughts":
        return HARM_THOUGHTS
    if item["danger"]:
        return YOUNG_DANGER if item["young_writer"] else DANGER
    return YOUNG if item["young_writer"] else NONE


@dataclass
class Scores:
    danger_recall: Rate = field(default_factory=Rate)
    danger_false_alarm: Rate = field(default_factory=Rate)    # hits = false alarms among hard negatives
    immediate_agreement: Rate = field(default_factory=Rate)
    crisis_recall: Rate = field(default_factory=Rate)
    crisis_false_alarm: Rate = field(default_factory=Rate)
    young_recall: Rate = field(default_factory=Rate)
    young_false_alarm: Rate = field(default_factory=Rate)
    route: Rate = field(default_factory=Rate)
    by_language: dict[str, Rate] = field(default_factory=dict)


def score(items: list[dict[str, Any]], judge: Callable[[str], Triage] = triage) -> Scores:
    scores = Scores()
    for index, item in enumerate(items):
        verdict = judge(item["text"])
        crisis = item.get("crisis") or "none"
        if item["danger"]:
            scores.danger_recall.add(verdict.danger.is_danger, index)
            if verdict.danger.is_danger:
                scores.immediate_agreement.add(verdict.danger.immediate == bool(item.get("immediate")), index)
        elif crisis == "none":
            scores.danger_false_alarm.add(not verdict.danger.is_danger, index)
        if crisis != "none":
            scores.crisis_recall.add(verdict.crisis is not None, index)
        else:
            scores.crisis_false_alarm.add(verdict.crisis is None, index)
        if item["young_writer"]:
            scores.young_recall.add(verdict.young, index)
        else:
            scores.young_false_alarm.add(not verdict.young, index)
        expected = expected_route(item)
        # Someone else's self-harm told by a parent is labelled self_harm; its reply gives the same numbers.
        right = verdict.route == expected or (expected == CRISIS and verdict.route == CLOSE_ONE)
        scores.route.add(right, index)
        scores.by_language.setdefault(item["lang"], Rate()).add(right, index)
    return scores


def patterns_only(text: str) -> Triage:
    """The triage without the learned model: what the pattern files alone decide."""
    return triage_with(text, default_patterns(), crisis_patterns(), young_patterns(), learned=None)


JUDGES: dict[str, Callable[[str], Triage]] = {"patterns only": patterns_only, "patterns + learned (served)": triage}


def false_alarm(rate: Rate) -> str:
    """A Rate whose hits are the clean answers, shown as the share of false alarms."""
    wrong = rate.total - rate.hits
    share = wrong / rate.total if rate.total else 0.0
    return f"{share:6.1%} ({wrong}/{rate.total})"


def cost_ms(texts: Iterable[str], rounds: int = 20, judge: Callable[[str], Triage] = triage,
            ) -> tuple[float, float, float]:
    """p50, p95 and max of one message's triage, in milliseconds."""
    samples = []
    texts = list(texts)
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            judge(text)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)], samples[-1]


def system_scores(items: list[dict[str, Any]], model: Path) -> tuple[Rate, Rate]:
    """Danger recall and false alarms (hits = clean) of the served NLU: classifier plus triage override."""
    sys.path.insert(0, str(REPO / "bench"))
    import nlu_bench

    nlu_bench._quiet()  # Rasa logs each parse with its text at debug level: a held-out message is never shown
    _, final, _ = asyncio.run(nlu_bench._parse_sets(model, {"set": [item["text"] for item in items]}))["set"]
    recall, clean = Rate(), Rate()
    for index, (item, parse) in enumerate(zip(items, final, strict=True)):
        routed = nlu_bench.routes_danger(nlu_bench.label_of(parse))
        if item["danger"]:
            recall.add(routed, index)
        elif (item.get("crisis") or "none") == "none":
            clean.add(not routed, index)
    return recall, clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="print the dev set's misses (never held-out's)")
    parser.add_argument("--model", type=Path, help="a trained Rasa model: also score the whole NLU's routing")
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS),
                        help="which sets to score (tuning looks at dev and heldout only, never fresh or fresh_2)")
    args = parser.parse_args()
    warm_up()
    everything: list[str] = []
    for split in args.splits:
        items = load(split)
        if not items:
            print(f"== {split}: no set in {SETS / split}")
            continue
        everything += [item["text"] for item in items]
        print(f"== {split}: {len(items)} messages")
        for name, judge in JUDGES.items():
            s = score(items, judge)
            print(f"  -- {name}")
            print(f"  danger recall           {s.danger_recall}   (goal 100 %)")
            print(f"  danger false alarms     {false_alarm(s.danger_false_alarm)}   (goal < 2 %, hard negatives)")
            print(f"  immediacy agreement     {s.immediate_agreement}   (of danger found)")
            print(f"  crisis recall           {s.crisis_recall}")
            print(f"  crisis false alarms     {false_alarm(s.crisis_false_alarm)}")
            print(f"  young-writer recall     {s.young_recall}")
            print(f"  young-writer false cues {false_alarm(s.young_false_alarm)}")
            print(f"  route agreement         {s.route}")
            for language, rate in sorted(s.by_language.items()):
                print(f"    route, {language}            {rate}")
        if args.model:
            recall, clean = system_scores(items, args.model)
            print(f"  system danger recall    {recall}   (triage or classifier)")
            print(f"  system false alarms     {false_alarm(clean)}")
        if args.show_misses and split == "dev":
            for name in ("danger_recall", "danger_false_alarm", "crisis_recall", "crisis_false_alarm",
                         "young_recall", "young_false_alarm", "route"):
                for index in getattr(s, name).misses:
                    item = items[index]
                    got = triage(item["text"])
                    print(f"  MISS {name}: got {got.route} want {expected_route(item)} | {item['text']}")
    for name, judge in JUDGES.items():
        p50, p95, worst = cost_ms(everything, judge=judge)
        print(f"== cost per message, {name} ({len(everything)} messages x 20): "
              f"p50 {p50:.3f} ms, p95 {p95:.3f} ms, max {worst:.3f} ms (goal p95 < 1 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
