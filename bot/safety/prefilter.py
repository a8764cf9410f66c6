"""A literal prefilter for the pattern files: which rules can match a message at all, found in one pass.

Why: Python's regex engine tries every rule (one big alternation of a few hundred) at every word of a message, and
that was most of the triage's cost (issue 14: under 1 ms p95 per message for all deterministic layers). Most rules
cannot match without some literal piece of text: "lyo" or "hakkaa" for a hitting rule, "tappa" for a killing
rule. For each rule this module derives, from the parsed regex, a set of strings one of which every match must
contain (the idea of RE2's FilteredRE2), finds all of them in a message in one Aho-Corasick pass
(pyahocorasick), and hands back only the rules whose strings occur, plus every rule it could derive nothing for.
The regexes then decide as before, so a rule is never skipped that could have matched: the derivation is
conservative by construction and tests compare the filtered and unfiltered verdicts on every safety set.
"""

from __future__ import annotations

import itertools
import sre_constants as sc
import sre_parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

#: Limits that keep the derivation cheap; beyond them a piece counts as "anything" (no literal required).
MAX_ALTERNATIVES = 64
MAX_LITERAL = 24
#: Shorter required strings occur in almost every message and would filter nothing.
MIN_USEFUL_LENGTH = 3

Literals = frozenset[str]


@dataclass(frozen=True)
class _Info:
    """What a piece of regex can match: ``exact`` is every string it can match (when few and short), ``required``
    a set of strings one of which every match contains (None: nothing known)."""

    exact: Literals | None
    required: Literals | None


_ANYTHING = _Info(exact=None, required=None)
_EMPTY = _Info(exact=frozenset({""}), required=None)


def required_literals(pattern: str) -> Literals | None:
    """Strings one of which every match of ``pattern`` contains, or None when no useful set can be derived."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & (sre_parse.SRE_FLAG_IGNORECASE | sre_parse.SRE_FLAG_VERBOSE):
        return None
    return _best(_sequence(parsed.data))


def _best(info: _Info) -> Literals | None:
    candidates = [s for s in (info.exact, info.required) if s is not None and _useful(s)]
    return max(candidates, key=_strength) if candidates else None


def _useful(strings: Literals) -> bool:
    return bool(strings) and min(len(s) for s in strings) >= MIN_USEFUL_LENGTH


def _strength(strings: Literals) -> tuple[int, int]:
    return min(len(s) for s in strings), -len(strings)


def _sequence(items: Sequence[tuple[Any, Any]]) -> _Info:
    """A concatenation. A run of pieces whose strings are all known spells out strings one of which every match
    contains; every piece's own required set is required too, and the most selective of them is kept."""
    required: list[Literals] = []
    run: Literals = frozenset({""})
    whole = True
    for op, av in items:
        info = _item(op, av)
        if info.required is not None and _useful(info.required):
            required.append(info.required)
        if info.exact is not None:
            product = frozenset(a + b for a, b in itertools.product(run, info.exact))
            if len(product) <= MAX_ALTERNATIVES and max(map(len, product)) <= MAX_LITERAL:
                run = product
                continue
            next_run = info.exact
        else:
            next_run = frozenset({""})
        whole = False
        if _useful(run):
            required.append(run)
        run = next_run
    if _useful(run):
        required.append(run)
    best = max(required, key=_strength) if required else None
    return _Info(exact=run if whole else None, required=best)


def _item(op: Any, av: Any) -> _Info:
    if op is sc.LITERAL:
        return _Info(exact=frozenset({chr(av)}), required=None)
    if op is sc.IN:
        chars = _charset(av)
        return _Info(exact=chars, required=None) if chars is not None else _ANYTHING
    if op is sc.SUBPATTERN:
        _, add_flags, _, body = av
        if add_flags & (sre_parse.SRE_FLAG_IGNORECASE | sre_parse.SRE_FLAG_VERBOSE):
            return _ANYTHING  # case-folded or verbose pieces: their literals are not the text's
        return _sequence(body.data)
    if op is sc.BRANCH:
        branches = [_sequence(branch.data) for branch in av[1]]
        if all(b.exact is not None for b in branches):
            union = frozenset().union(*(b.exact for b in branches if b.exact is not None))
            if len(union) <= MAX_ALTERNATIVES:
                return _Info(exact=union, required=None)
        requirements = [_best(b) for b in branches]
        if all(r is not None for r in requirements):
            union = frozenset().union(*(r for r in requirements if r is not None))
            return _Info(exact=None, required=union)
        return _ANYTHING
    if op in (sc.MAX_REPEAT, sc.MIN_REPEAT, getattr(sc, "POSSESSIVE_REPEAT", None)):
        low, high, body = av
        if low == 0:
            return _ANYTHING
        inner = _sequence(body.data)
        if low == high == 1:
            return inner
        return _Info(exact=None, required=_best(inner))
    if op in (sc.AT, sc.ASSERT, sc.ASSERT_NOT):
        return _EMPTY  # zero-width: adds nothing to what is matched (a lookahead's content is not relied on)
    return _ANYTHING  # ANY, NOT_LITERAL, categories, group references, atomic groups: nothing known


def _charset(items: Sequence[tuple[Any, Any]]) -> Literals | None:
    """The characters of a small positive class such as [aä]; None for negated, ranged or category classes."""
    chars: set[str] = set()
    for op, av in items:
        if op is not sc.LITERAL:
            return None
        chars.add(chr(av))
    return frozenset(chars) if 0 < len(chars) <= 8 else None


class Prefilter:
    """The rules (by index) that can match a text: those whose required strings occur, and those with none."""

    def __init__(self, bodies: Sequence[str]) -> None:
        automaton = ahocorasick.Automaton()
        owners: dict[str, set[int]] = {}
        unfiltered = set()
        for index, body in enumerate(bodies):
            literals = required_literals(body)
            if literals is None:
                unfiltered.add(index)
                continue
            for literal in literals:
                owners.setdefault(literal, set()).add(index)
        for literal, indexes in owners.items():
            automaton.add_word(literal, frozenset(indexes))
        self.unfiltered = frozenset(unfiltered)
        self.literals = frozenset(owners)
        self._automaton = automaton if owners else None
        if self._automaton is not None:
            self._automaton.make_automaton()

    def candidates(self, text: str) -> set[int]:
        found = set(self.unfiltered)
        if self._automaton is not None:
            for _, indexes in self._automaton.iter(text):
                found |= indexes
        return found
