"""Reading short free-text answers (age, language, form choices) with the word lists in data/answers.yml."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data"
MAX_AGE_YEARS = 17
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_YEARS = re.compile(r"(?<!\d)(\d{1,2})\s*(?:-?\s*v\b|-?\s*v\.|-?\s*vuot|-?\s*vee\b|\s*år|\s*years?|$)")
_MONTHS = re.compile(r"(?<!\d)(\d{1,2})\s*(?:kk|kuukau|kuuk|mån|months?)")
_BARE_NUMBER = re.compile(r"^\D*?(\d{1,2})\D*$")


@lru_cache(maxsize=8)
def load_yaml(name: str) -> dict[str, Any]:
    """A data file under actions/data (parsed once per process)."""
    with (DATA / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def answers() -> dict[str, Any]:
    return load_yaml("answers.yml")


def fold(text: str) -> str:
    """Lower case without diacritics, so "Tekstiviestillä" and "tekstiviestilla" read the same."""
    text = unicodedata.normalize("NFKD", (text or "").lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


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


def choose(text: str, options: Mapping[str, Iterable[str]]) -> str | None:
    """The single option whose words appear in `text`; None when none or several different ones match."""
    hits = [value for value, words in options.items() if matches_any(text, words)]
    return hits[0] if len(hits) == 1 else None


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
        if re.search(rf"\b{word}\s*-?\s*(vuot|v\b)", folded):
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


def language_name(code: str) -> str:
    """The Finnish name of a language code ("sv" → "ruotsi"); unknown codes are shown as they are."""
    entry = (answers().get("languages") or {}).get(code) or {}
    return str(entry.get("name") or code)


def language_adverb(code: str) -> str:
    """The Finnish adverb of a language code ("sv" → "ruotsiksi")."""
    entry = (answers().get("languages") or {}).get(code) or {}
    return str(entry.get("adverb") or code)


def is_skip(text: str | None) -> bool:
    return bool(text) and matches_any(str(text), answers().get("skip") or [])
