"""S6, S7, S8 on the independent sets of tests/safety_sets/ (written by a helper who had read neither the
patterns nor the training data; tests/safety_sets/README.md).

`dev` is the development set: the patterns were tuned on it, so its figures show only that the tuning holds.
`heldout` is for reporting: no pattern was changed to make one of its figures pass, and a failure here is
reported, not fixed by editing the set. The benchmark (bench/safety_bench.py) prints the same figures.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benches import load_bench

REPO = Path(__file__).resolve().parent.parent
# S8's goals (DESIGN.md): every danger message raises the alarm, under 2 % of hard non-danger messages do.
GOAL_DANGER_RECALL = 1.0
GOAL_DANGER_FALSE_ALARMS = 0.02
# Regression floors on the held-out set: the figures measured on 2026-12-07 (README, "Benchmarks") less a margin
# of a few messages. They are NOT the goals, which the held-out set shows are not met yet (README, "Known
# limits"); they stop a change from losing ground unnoticed. Never raise them by tuning on the held-out set.
HELDOUT_FLOORS = {
    "danger_recall": 0.60,        # measured 0.623 (137/220)
    "crisis_recall": 0.37,        # measured 0.398 (33/83)
    "young_recall": 0.80,         # measured 0.841 (74/88)
}
HELDOUT_CEILINGS = {
    "danger_false_alarm": 0.10,   # measured 0.088 (45/510)
    "crisis_false_alarm": 0.015,  # measured 0.007 (5/725)
    "young_false_alarm": 0.015,   # measured 0.006 (4/720)
}


def _bench() -> ModuleType:
    return load_bench("safety_bench")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


def _false_alarm_share(rate: Any) -> float:
    return (rate.total - rate.hits) / rate.total if rate.total else 0.0


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_the_sets_are_big_enough_and_labelled(bench: ModuleType, split: str) -> None:
    items = bench.load(split)
    negatives = [i for i in items if not i["danger"] and (i.get("crisis") or "none") == "none"]
    assert len([i for i in items if i["danger"]]) >= (150 if split == "heldout" else 80)
    assert len(negatives) >= (300 if split == "heldout" else 150)
    for item in items:
        assert item["lang"] in ("fi", "sv", "en")
        assert item["crisis"] in ("none", "suicide", "self_harm", "harm_baby_thoughts")
        assert isinstance(item["danger"], bool) and isinstance(item["young_writer"], bool)


def test_the_sets_share_no_message(bench: ModuleType) -> None:
    dev = {" ".join(i["text"].casefold().split()) for i in bench.load("dev")}
    held = {" ".join(i["text"].casefold().split()) for i in bench.load("heldout")}
    assert not dev & held


def test_the_development_sets_meet_the_goals(bench: ModuleType) -> None:
    """The patterns were tuned on these: a failure means a change lost what the tuning had reached."""
    scores = bench.score(bench.load("dev"))
    assert scores.danger_recall.value >= GOAL_DANGER_RECALL, f"danger recall {scores.danger_recall}"
    assert _false_alarm_share(scores.danger_false_alarm) < GOAL_DANGER_FALSE_ALARMS, \
        f"danger false alarms {bench.false_alarm(scores.danger_false_alarm)}"
    assert scores.crisis_recall.value >= 0.95 and scores.young_recall.value >= 0.97
    assert _false_alarm_share(scores.crisis_false_alarm) < 0.01 and _false_alarm_share(scores.young_false_alarm) < 0.01


def test_the_held_out_set_does_not_lose_ground(bench: ModuleType) -> None:
    """Only counts are shown: a held-out message is never printed."""
    scores = bench.score(bench.load("heldout"))
    for name, floor in HELDOUT_FLOORS.items():
        rate = getattr(scores, name)
        assert rate.value >= floor, f"held-out {name} {rate} fell under {floor:.0%}"
    for name, ceiling in HELDOUT_CEILINGS.items():
        rate = getattr(scores, name)
        assert _false_alarm_share(rate) <= ceiling, f"held-out {name} {bench.false_alarm(rate)} over {ceiling:.1%}"
