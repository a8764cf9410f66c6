"""Reading short free-text answers (age, language, form choices) with the word lists in data/answers.yml."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.finnish import fold  # lower case without diacritics: "Tekstiviestillä" reads as "tekstiviestilla"

DATA = Path(__file__).parent / "data"
MAX_AGE_YEARS = 17
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Matched on folded text, where Swedish "år" and "mån" read "ar" and "man" ("3-åring" → "3-aring").
_YEAR_WORD = r"(?:vuot|v\b|ar(?:\b|ig|ing)|years?\b|yrs?\b)"
_YEARS = re.compile(r"(?<!\d)(\d{1,2})\s*(?:-?\s*v\b|-?\s*v\.|-?\s*vuot|-?\s*vee\b|-?\s*ar(?:\b|ig|ing)|\s*years?|$)")
_MONTHS = re.compile(r"(?<!\d)(\d{1,2})\s*(?:kk|kuukau|kuuk|manad|man\b|months?)")
_BARE_NUMBER = re.compile(r"^\D*?(\d{1,2})\D*$")


@lru_cache(maxsize=8)
def load_yaml(name: str) -> dict[str, Any]:
    """A data file under actions/data (parsed once per process)."""
    with (DATA / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def answers() -> dict[str, Any]:
    return load_yaml("answers.yml")


def matches_any(text: str, keywords: Iterable[str]) -> bool:
    """True if a keyword starts a word of `text` (short keywords must be whole words)."""
    folded = " " + " ".join(_WORD.findall(fold(text))) + " "
    for keyword in keywords:
        key = " ".join(_WORD.findall(fold(keyword)))
        if not key:
            continue
        pattern = f" {key} " if len(key) <= 3 else f" {key}"
        if pattern in folded:
            return True
    return False


@dataclass(frozen=True)
class Reading:
    """What a typed answer chose (`value`, or None) and which options it explicitly refused ("älä soita")."""

    value: str | None
    refused: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Hit:
    option: str
    start: int
    end: int


# Apostrophes vanish so that "don't" is one word, "dont".
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘´`ʼ"))
_CLAUSE_END = re.compile(r"[,.;:!?()\n]+")
NEGATION_AHEAD = 3  # "en halua että soitatte": the negation word is at most this many words before the option
NEGATION_BEHIND = 2  # "soitto ei käy", "ring mig inte": or at most this many words after it


def _clauses(text: str) -> list[list[str]]:
    """The folded words of `text`, split into clauses at punctuation and at "mutta", "vaan", "but", "men"."""
    stops = {fold(word) for word in _negation().get("clause_words") or []}
    clauses: list[list[str]] = []
    for part in _CLAUSE_END.split(fold(text).translate(_APOSTROPHES)):
        clause: list[str] = []
        for word in _WORD.findall(part):
            if word in stops:
                clauses.append(clause)
                clause = []
            else:
                clause.append(word)
        clauses.append(clause)
    return [clause for clause in clauses if clause]


def _keyword_words(keyword: str) -> list[str]:
    return _WORD.findall(fold(keyword).translate(_APOSTROPHES))


def _phrase_at(words: list[str], start: int, key: list[str]) -> bool:
    """Whether the keyword's words start at `start`: earlier words whole, the last as a word start (or whole,
    for keywords of three letters or fewer, as matches_any does)."""
    if start + len(key) > len(words):
        return False
    *head, last = key
    if any(words[start + i] != word for i, word in enumerate(head)):
        return False
    found = words[start + len(head)]
    return found == last if len(" ".join(key)) <= 3 else found.startswith(last)


def _idiom_positions(words: list[str]) -> set[int]:
    """Words inside an idiom that only looks negative ("ei haittaa"): neither an option nor a negation."""
    covered: set[int] = set()
    for idiom in (_keyword_words(idiom) for idiom in _negation().get("idioms") or []):
        for i in range(len(words)):
            if idiom and _phrase_at(words, i, idiom):
                covered.update(range(i, i + len(idiom)))
    return covered


def _hits(words: list[str], options: Mapping[str, Iterable[str]], skip: set[int]) -> list[_Hit]:
    """Every keyword found, longest first, without overlaps: "ei kiire" (later) wins over its "kiire" (urgent)."""
    found = []
    for option, keywords in options.items():
        for keyword in keywords:
            key = _keyword_words(keyword)
            if key:
                found += [_Hit(option, i, i + len(key)) for i in range(len(words))
                          if _phrase_at(words, i, key) and not skip.intersection(range(i, i + len(key)))]
    kept: list[_Hit] = []
    for hit in sorted(found, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def _negated(words: list[str], hits: list[_Hit], skip: set[int]) -> set[int]:
    """Indexes of the hits a negation word refers to: the nearest option after it, else the nearest before it."""
    negators = {fold(word).translate(_APOSTROPHES) for word in _negation().get("words") or []}
    covered = skip | {i for hit in hits for i in range(hit.start, hit.end)}
    negated: set[int] = set()
    for position, word in enumerate(words):
        if word not in negators or position in covered:
            continue
        ahead = [n for n, hit in enumerate(hits) if 0 < hit.start - position <= NEGATION_AHEAD]
        behind = [n for n, hit in enumerate(hits) if 0 < position - hit.end + 1 <= NEGATION_BEHIND]
        if ahead:
            negated.add(ahead[0])
        elif behind:
            negated.add(behind[-1])
    return negated


def read_choice(text: str, options: Mapping[str, Iterable[str]],
                opposites: Mapping[str, str] | None = None) -> Reading:
    """Read a typed answer to a question with `options` (option → keywords), understanding negation.

    A keyword under a negation word ("älä soita", "ei ole kiire", "ring inte", "don't call") refuses its option
    instead of choosing it. The answer is the single option chosen and not refused; when nothing is chosen but
    options are refused, the one `opposites` option they leave ("älä soita" → sms); else None.
    """
    chosen: set[str] = set()
    refused: set[str] = set()
    for words in _clauses(text or ""):
        idioms = _idiom_positions(words)
        hits = _hits(words, options, idioms)
        negated = _negated(words, hits, idioms)
        for n, hit in enumerate(hits):
            (refused if n in negated else chosen).add(hit.option)
    chosen -= refused  # "soita … älä soita": a refusal is honoured
    if len(chosen) == 1:
        return Reading(chosen.pop(), frozenset(refused))
    if not chosen and refused:
        left = {opposites[option] for option in refused if opposites and option in opposites} - refused
        if len(left) == 1:
            return Reading(left.pop(), frozenset(refused))
    return Reading(None, frozenset(refused))


def choose(text: str, options: Mapping[str, Iterable[str]], group: str | None = None) -> str | None:
    """The single option `text` chooses (negation-aware, see read_choice); None when none or several.

    `group` names the answers.yml question, whose `opposites` entry says what a refusal leaves.
    """
    return read_choice(text, options, opposites(group)).value


def opposites(group: str | None) -> dict[str, str]:
    """For one question of answers.yml, the option a refusal of each option leaves ("call" → "sms")."""
    return dict((answers().get("opposites") or {}).get(group or "", {}) or {})


def _negation() -> dict[str, Any]:
    return dict(answers().get("negation") or {})


def parse_age(text: str | None) -> int | None:
    """The child's age in whole years from "2-vuotias", "3v", "6kk", "kolmevuotias", "vauva" or "teini"."""
    if not text:
        return None
    folded = fold(str(text)).strip()
    if _MONTHS.search(folded):
        months = int(_MONTHS.search(folded).group(1))  # type: ignore[union-attr]
        return min(months // 12, MAX_AGE_YEARS)
    found = _YEARS.search(folded)
    if found:
        years = int(found.group(1))
        return years if years <= MAX_AGE_YEARS else None
    data = answers()
    for word, years in (data.get("number_words") or {}).items():
        if re.search(rf"\b{word}\s*-?\s*{_YEAR_WORD}", folded):
            return int(years)
    for word, years in (data.get("age_words") or {}).items():
        if matches_any(folded, [word]):
            return int(years)
    bare = _BARE_NUMBER.match(folded)
    if bare and len(folded) <= 12:
        years = int(bare.group(1))
        return years if years <= MAX_AGE_YEARS else None
    return None


def parse_language(text: str | None) -> str | None:
    """The language code (fi, sv, en …) named in "ruotsiksi", "på svenska" or "englanniksi"."""
    if not text:
        return None
    for code, entry in (answers().get("languages") or {}).items():
        if matches_any(text, entry.get("words") or []):
            return str(code)
    return None


def language_name(code: str, language: str = "fi") -> str:
    """The name of a language code in the reply's language ("sv" → "ruotsi", in Swedish "svenska"); Finnish when
    that language has none; unknown codes are shown as they are."""
    entry = (answers().get("languages") or {}).get(code) or {}
    return str((entry.get("names") or {}).get(language) or entry.get("name") or code)


def language_adverb(code: str, language: str = "fi") -> str:
    """The adverb of a language code in the reply's language ("sv" → "ruotsiksi", in English "in Swedish")."""
    entry = (answers().get("languages") or {}).get(code) or {}
    return str((entry.get("adverbs") or {}).get(language) or entry.get("adverb") or code)


def is_skip(text: str | None) -> bool:
    return bool(text) and matches_any(str(text), answers().get("skip") or [])
