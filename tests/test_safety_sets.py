"""S6, S7, S8 on the independent sets of tests/safety_sets/ (written by helpers who had read neither the
patterns nor the training data; tests/safety_sets/README.md), scored by the triage as served: the patterns and
the learned model (bot/safety/learned.py).

`dev` is the development set: the patterns were tuned on it and the learned model is trained on it, so its
figures show only that the tuning holds. `heldout` chose the learned model's thresholds and is otherwise for
reporting; `fresh` and `fresh_2` are for reporting only. No pattern or threshold was changed to make a held-out or
fresh figure pass, and a failure there is reported, not fixed by editing the set. bench/safety_bench.py prints the
same figures.
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
# Regression floors: the figures measured on 2026-12-07 23:43 UTC, after the fifth development set (README,
# "Benchmarks"), less a margin of a few messages.
# They are NOT the goals, which these sets show are not met yet (README, "Known limits"); they stop a change from
# losing ground unnoticed. Never raise them by tuning on these sets.
FLOORS = {
    "heldout": {
        "danger_recall": 0.85,        # measured 0.882 (194/220)
        "crisis_recall": 0.84,        # measured 0.880 (73/83)
        "young_recall": 0.80,         # measured 0.841 (74/88)
    },
    "fresh": {
        "danger_recall": 0.90,        # measured 0.931 (149/160)
        "crisis_recall": 0.88,        # measured 0.925 (74/80)
        "young_recall": 0.87,         # measured 0.925 (37/40)
    },
    "fresh_2": {
        "danger_recall": 0.87,        # measured 0.906 (154/170)
        "crisis_recall": 0.86,        # measured 0.901 (73/81)
        "young_recall": 0.91,         # measured 0.956 (43/45)
    },
}
CEILINGS = {
    "heldout": {
        "danger_false_alarm": 0.095,  # measured 0.080 (41/510)
        "crisis_false_alarm": 0.035,  # measured 0.021 (15/725)
        "young_false_alarm": 0.015,   # measured 0.006 (4/720)
    },
    "fresh": {
        "danger_false_alarm": 0.06,   # measured 0.045 (18/403)
        "crisis_false_alarm": 0.025,  # measured 0.012 (7/560)
        "young_false_alarm": 0.02,    # measured 0.010 (6/600)
    },
    "fresh_2": {
        "danger_false_alarm": 0.05,   # measured 0.035 (16/460)
        "crisis_false_alarm": 0.04,   # measured 0.026 (16/625)
        "young_false_alarm": 0.012,   # measured 0.003 (2/661)
    },
}
INDEPENDENT = ("heldout", "fresh", "fresh_2")
# A development message this similar to an independent one (rapidfuzz's ratio after the triage's own folding)
# would let training see an answer it is later scored on.
NEAR_COPY_RATIO = 85


def _bench() -> ModuleType:
    return load_bench("safety_bench")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


def _false_alarm_share(rate: Any) -> float:
    return (rate.total - rate.hits) / rate.total if rate.total else 0.0


@pytest.mark.parametrize("split", ["dev", *INDEPENDENT])
def test_the_sets_are_big_enough_and_labelled(bench: ModuleType, split: str) -> None:
    items = bench.load(split)
    negatives = [i for i in items if not i["danger"] and (i.get("crisis") or "none") == "none"]
    assert len([i for i in items if i["danger"]]) >= (80 if split == "dev" else 150)
    assert len(negatives) >= (150 if split == "dev" else 300)
    for item in items:
        assert item["lang"] in ("fi", "sv", "en")
        assert item["crisis"] in ("none", "suicide", "self_harm", "harm_baby_thoughts")
        assert isinstance(item["danger"], bool) and isinstance(item["young_writer"], bool)


def test_the_sets_share_no_message(bench: ModuleType) -> None:
    texts = {split: {" ".join(i["text"].casefold().split()) for i in bench.load(split)} for split in bench.SPLITS}
    for index, split in enumerate(bench.SPLITS):
        for other in bench.SPLITS[index + 1:]:
            assert not texts[split] & texts[other], (split, other)


def test_no_development_message_nearly_copies_an_independent_one(bench: ModuleType) -> None:
    """The learned model trains on dev: a near-copy of a scored message would measure memory. Only a count shows."""
    from rapidfuzz import fuzz, process

    from bot.safety.danger import normalise

    independent = [normalise(item["text"]) for split in INDEPENDENT for item in bench.load(split)]
    near = [index for index, item in enumerate(bench.load("dev"))
            if process.extractOne(normalise(item["text"]), independent, scorer=fuzz.ratio,
                                  score_cutoff=NEAR_COPY_RATIO) is not None]
    assert not near, f"{len(near)} development messages nearly copy a held-out or fresh one (dev indexes {near})"


def test_the_development_sets_meet_the_goals(bench: ModuleType) -> None:
    """The patterns were tuned on these: a failure means a change lost what the tuning had reached."""
    scores = bench.score(bench.load("dev"))
    assert scores.danger_recall.value >= GOAL_DANGER_RECALL, f"danger recall {scores.danger_recall}"
    assert _false_alarm_share(scores.danger_false_alarm) < GOAL_DANGER_FALSE_ALARMS, \
        f"danger false alarms {bench.false_alarm(scores.danger_false_alarm)}"
    assert scores.crisis_recall.value >= 0.95 and scores.young_recall.value >= 0.97
    assert _false_alarm_share(scores.crisis_false_alarm) < 0.01 and _false_alarm_share(scores.young_false_alarm) < 0.01


@pytest.mark.parametrize("split", INDEPENDENT)
def test_the_independent_sets_do_not_lose_ground(bench: ModuleType, split: str) -> None:
    """Only counts are shown: a held-out or fresh message is never printed."""
    scores = bench.score(bench.load(split))
    for name, floor in FLOORS[split].items():
        rate = getattr(scores, name)
        assert rate.value >= floor, f"{split} {name} {rate} fell under {floor:.0%}"
    for name, ceiling in CEILINGS[split].items():
        rate = getattr(scores, name)
        assert _false_alarm_share(rate) <= ceiling, f"{split} {name} {bench.false_alarm(rate)} over {ceiling:.1%}"


def test_the_learned_model_adds_to_the_patterns_on_every_independent_set(bench: ModuleType) -> None:
    """The reason the learned model is served: on sets it never saw it finds more danger and crisis than the
    patterns alone, without more danger false alarms."""
    for split in INDEPENDENT:
        items = bench.load(split)
        alone, served = bench.score(items, bench.patterns_only), bench.score(items)
        assert served.danger_recall.hits > alone.danger_recall.hits, split
        assert served.crisis_recall.hits > alone.crisis_recall.hits, split
        assert served.danger_false_alarm.hits >= alone.danger_false_alarm.hits, split  # hits = clean answers
