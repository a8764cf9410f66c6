"""The literal prefilter of the safety patterns (bot/safety/prefilter.py) never hides a rule that matches."""

from __future__ import annotations

import dataclasses

import pytest
from benches import load_bench
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety import danger
from bot.safety.danger import PatternSet
from bot.safety.prefilter import Prefilter, required_literals
from bot.safety.triage import crisis_patterns, young_patterns


@pytest.mark.parametrize("pattern,expected", [
    ("lyo", {"lyo"}),
    ("(?:lyo|hakkaa) mua", {"lyo mua", "hakkaa mua"}),
    ("l[yu]o", {"lyo", "luo"}),
    ("uhka\\w* (?:[^ ]+ ){0,3}tappaa", {"tappaa"}),  # the longer of the two pieces every match holds
    ("(?<![^ ])(?:potkii)(?![^ ])", {"potkii"}),     # zero-width assertions add nothing
    ("(?:tappaa|uhkaa (?:[^ ]+ )?lyoda)", {"tappaa", "uhkaa "}),  # each branch's most selective piece
    ("(?:lyo){2,3}", {"lyo"}),
])
def test_required_literals(pattern: str, expected: set[str]) -> None:
    assert required_literals(pattern) == expected


@pytest.mark.parametrize("pattern", [
    "(?:lyo)?", "[^ ]+", "(?:lyo|[^ ]+)", "(?i)lyo", "ab", "(?:a|b)+", "\\w+ \\w+", "(?=lyo)\\w+", ".*",
])
def test_nothing_required_means_the_rule_is_always_tried(pattern: str) -> None:
    assert required_literals(pattern) is None
    assert Prefilter([pattern]).candidates("anything at all") == {0}


def _sets() -> dict[str, PatternSet]:
    return {"danger": danger.default_patterns(), "crisis": crisis_patterns(), "young": young_patterns().cues}


def _unfiltered(rules: PatternSet) -> PatternSet:
    return dataclasses.replace(rules, negative_filter=None, pattern_filter=None, cue_filter=None)


def _same(text: str, rules: PatternSet, every_rule: PatternSet) -> bool:
    return (danger.assess(text, rules) == danger.assess(text, every_rule)
            and danger.has_negative(text, rules) == danger.has_negative(text, every_rule)
            and danger.has_immediacy_cue(text, rules) == danger.has_immediacy_cue(text, every_rule))


@pytest.mark.slow  # every rule on 5,000 messages, three times: about 20 s
@pytest.mark.parametrize("name", ["danger", "crisis", "young"])
def test_filtered_and_unfiltered_verdicts_agree_on_every_safety_set(name: str) -> None:
    """Texts only, never labels: the independent sets serve here as varied input, nothing is tuned on them."""
    bench = load_bench("safety_bench")
    rules = _sets()[name]
    every_rule = _unfiltered(rules)
    texts = [item["text"] for split in bench.SPLITS for item in bench.load(split)]
    differing = [index for index, text in enumerate(texts) if not _same(text, rules, every_rule)]
    assert not differing, f"{len(differing)} messages differ (indexes {differing[:10]})"


def _pieces() -> list[str]:
    """The prefilter's own strings, which make a rule a candidate, to build texts that exercise the rules."""
    found: set[str] = set()
    for rules in _sets().values():
        for prefilter in (rules.negative_filter, rules.pattern_filter, rules.cue_filter):
            assert prefilter is not None
            found.update(prefilter.literals)
    return sorted(found)


PIECES = _pieces()
FILLER = ["ja", "se", "mua", "nyt", "taas", "kotona", "illalla", "ei", "han", "he", "me", "i", "och", "the", "112"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES + FILLER), min_size=1, max_size=12))
def test_filtered_and_unfiltered_verdicts_agree_on_made_up_texts(words: list[str]) -> None:
    text = " ".join(words)
    for rules in _sets().values():
        assert _same(text, rules, _unfiltered(rules)), text
