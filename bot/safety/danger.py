"""Deterministic danger detector (safety rule S1), independent of any ML classifier.

It recognises Finnish (standard and spoken), Swedish and English expressions of domestic violence,
threats and present danger. The patterns are reviewable data in ``bot/safety/data/danger_patterns.yml``;
that file's header explains normalisation and the pattern syntax. The detector is pure Python,
needs nothing but PyYAML, and never returns any part of the user's text: only pattern ids.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.safety.prefilter import Prefilter

#: Only this many characters of a message are analysed; longer input is truncated, so that a huge
#: paste costs the same as a long message. The web gateway rejects messages far shorter than this.
MAX_ANALYSED_CHARS = 5000

DEFAULT_PATTERNS_PATH = Path(__file__).parent / "data" / "danger_patterns.yml"

_ID = re.compile(r"^[a-z0-9_.]+$")
_VOCAB_REF = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_GAP = re.compile(r" ?\{gap:(\d+)\}")
_MAX_VOCAB_DEPTH = 5
_MASK = "#"

# Normalisation tables: apostrophes vanish (he's -> hes) so contractions stay one word;
# invisible format characters vanish so "vä\u00adkivalta" stays one word.
_DROP = dict.fromkeys(map(ord, "'’‘´`ʼ\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"))
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_WORD = re.compile(r"[\W_]+")
# Letters only: folding digits would turn a phone number such as 1112222 into 112222 and raise the 112 alarm.
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")


@dataclass(frozen=True)
class DangerAssessment:
    """The verdict on one message; ``matched`` holds pattern ids only, never user text."""

    is_danger: bool
    immediate: bool
    matched: tuple[str, ...] = ()


SAFE = DangerAssessment(is_danger=False, immediate=False, matched=())


@dataclass(frozen=True)
class Rule:
    """One compiled entry of the pattern file.

    ``topic`` marks a pattern that only names the subject (a violence term, a shelter, a helpline): such a
    match is set aside when an information frame (schoolwork, training for staff) is present.
    """

    id: str
    regex: re.Pattern[str]
    body: str
    immediate: bool = False
    topic: bool = False


@dataclass(frozen=True)
class PatternSet:
    """Compiled negatives (masked first), danger patterns and immediacy cues.

    Each section has a literal prefilter (``bot/safety/prefilter.py``): one pass over the text names the few
    rules that can match it at all, and only those regexes run. (One alternation of every rule, tried before,
    cost a quarter of a millisecond per message whatever it held.) Without a prefilter every rule is tried;
    tests compare the two.

    ``emoji`` maps single characters (laughing emoji) to words before normalisation, so that patterns can
    see them; ``frames`` are information frames (schoolwork, staff training) that set ``topic`` matches aside.
    Both are optional sections of a pattern file.
    """

    negatives: tuple[Rule, ...]
    patterns: tuple[Rule, ...]
    cues: tuple[Rule, ...]
    frames: tuple[Rule, ...] = ()
    emoji: Mapping[int, str] = field(default_factory=dict)
    # Which rules of each section can match a text at all (bot/safety/prefilter.py); None tries every rule.
    negative_filter: Prefilter | None = None
    pattern_filter: Prefilter | None = None
    cue_filter: Prefilter | None = None

    def candidates(self, section: str, text: str) -> tuple[Rule, ...]:
        """The rules of a section (negatives, patterns, cues) that can match ``text``, in file order."""
        rules: tuple[Rule, ...] = getattr(self, section)
        prefilter: Prefilter | None = getattr(self, _FILTERS[section])
        if prefilter is None:
            return rules
        found = prefilter.candidates(text)
        return tuple(rule for index, rule in enumerate(rules) if index in found)


_FILTERS = {"negatives": "negative_filter", "patterns": "pattern_filter", "cues": "cue_filter"}


class PatternFileError(ValueError):
    """The pattern file is malformed; raised at load time so a bad edit fails loudly in tests."""


def normalise(text: str) -> str:
    """Fold text to the form the patterns are written against (see the pattern file header).

    Case and accents are folded (ä -> a), punctuation, emoji and control characters become spaces,
    and runs of 3+ identical letters (never digits) shrink to two. Double letters are kept: in Finnish they carry
    meaning (tappaa "kills" / tapaa "meets").
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_ANALYSED_CHARS].translate(_DROP)
    # Lone surrogates cannot be normalised; they carry no words, so replace them first.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))  # casefold may expose new marks
    text = _NON_WORD.sub(" ", text)
    text = _LONG_RUN.sub(r"\1\1", text)
    return text.strip()


def detect_danger(text: str) -> DangerAssessment:
    """Assess one message: is there violence, a threat or danger, and may it be present right now?"""
    return assess(text, default_patterns())


def fold(text: str, rules: PatternSet, plain: str | None = None) -> str:
    """The text as this rule set reads it: its emoji as words, then normalised. ``plain`` is ``normalise(text)``
    when the caller has it already (the triage folds each message once for all its layers)."""
    if plain is not None and (not rules.emoji or _emoji_words(text, rules) == text):
        return plain
    return normalise(_emoji_words(text, rules))


def has_immediacy_cue(text: str, rules: PatternSet | None = None, plain: str | None = None) -> bool:
    """True if the message has a present-danger cue ("nyt", "he is coming", "oven takana"), danger or not.

    detect_danger sees one message; the dialogue can use this on a follow-up turn after a danger turn.
    """
    rules = rules or default_patterns()
    masked = _mask(fold(text, rules, plain), rules)
    return any(cue.regex.search(masked) for cue in rules.candidates("cues", masked)) or any(
        rule.immediate and rule.regex.search(masked) for rule in rules.candidates("patterns", masked)
    )


def has_negative(text: str, rules: PatternSet, plain: str | None = None) -> bool:
    """True if one of the pattern file's negatives (an idiom, an accident, a game) occurs in the message."""
    normalised = fold(text, rules, plain)
    return any(rule.regex.search(normalised) for rule in rules.candidates("negatives", normalised))


def assess(text: str, rules: PatternSet, plain: str | None = None) -> DangerAssessment:
    """Assess ``text`` with an explicit pattern set (tests and tools pass their own); ``plain`` as for fold()."""
    normalised = fold(text, rules, plain)
    if not normalised:
        return SAFE
    masked = _mask(normalised, rules)
    matched = [rule for rule in rules.candidates("patterns", masked) if rule.regex.search(masked)]
    if not matched:
        return SAFE
    if any(rule.topic for rule in matched) and any(frame.regex.search(masked) for frame in rules.frames):
        # An information frame (a school presentation, training for staff): naming the topic is not danger.
        matched = [rule for rule in matched if not rule.topic]
        if not matched:
            return SAFE
    cues = [cue.id for cue in rules.candidates("cues", masked) if cue.regex.search(masked)]
    immediate = bool(cues) or any(rule.immediate for rule in matched)
    return DangerAssessment(is_danger=True, immediate=immediate, matched=tuple(r.id for r in matched) + tuple(cues))


def _emoji_words(text: str, rules: PatternSet) -> str:
    if rules.emoji and isinstance(text, str):
        return text.translate(rules.emoji)
    return text


def _mask(normalised: str, rules: PatternSet) -> str:
    """Blank the negatives' matches, in file order. Masking only removes letters, so a negative whose required
    strings are not in the unmasked text cannot match after an earlier one was masked either."""
    for rule in rules.candidates("negatives", normalised):
        normalised = rule.regex.sub(_MASK, normalised)
    return normalised


@lru_cache(maxsize=1)
def default_patterns() -> PatternSet:
    """The bundled pattern set, loaded and compiled once per process."""
    return load_patterns(DEFAULT_PATTERNS_PATH)


def load_patterns(path: Path | str) -> PatternSet:
    """Load, expand and compile a pattern file; raise PatternFileError on any mistake."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PatternFileError(f"cannot read {path}: {error}") from error
    return compile_patterns(data)


def compile_patterns(data: Any) -> PatternSet:
    """Compile the parsed YAML document (see the pattern file header for its shape)."""
    if not isinstance(data, Mapping):
        raise PatternFileError("the pattern file must be a mapping")
    vocab = data.get("vocab") or {}
    if not isinstance(vocab, Mapping) or not all(
        isinstance(items, list) and all(isinstance(item, str) for item in items) for items in vocab.values()
    ):
        raise PatternFileError("vocab must map names to lists of strings")
    emoji = data.get("emoji_words") or {}
    if not isinstance(emoji, Mapping) or not all(
        isinstance(char, str) and len(char) == 1 and isinstance(word, str) and _ID.match(word)
        for char, word in emoji.items()
    ):
        raise PatternFileError("emoji_words must map single characters to lowercase words")
    seen: set[str] = set()
    sections = []
    for section in ("negatives", "patterns", "immediate_cues", "info_frames"):
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise PatternFileError(f"{section} must be a list")
        sections.append(tuple(_compile_entry(entry, vocab, seen, section) for entry in entries))
    negatives, patterns, cues, frames = sections
    if not patterns:
        raise PatternFileError("no danger patterns")
    return PatternSet(
        negatives=negatives,
        patterns=patterns,
        cues=cues,
        frames=frames,
        emoji={ord(char): f" {word} " for char, word in emoji.items()},
        negative_filter=Prefilter([rule.body for rule in negatives]),
        pattern_filter=Prefilter([rule.body for rule in patterns]),
        cue_filter=Prefilter([rule.body for rule in cues]),
    )


def anchored(body: str) -> str:
    """A regex body anchored to whole words: normalised text is words separated by single spaces."""
    return f"(?<![^ ])(?:{body})(?![^ ])"


def _compile_entry(entry: Any, vocab: Mapping[str, list[str]], seen: set[str], section: str) -> Rule:
    if not isinstance(entry, Mapping):
        raise PatternFileError(f"{section}: every entry must be a mapping")
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise PatternFileError(f"{section}: bad id {rule_id!r} (use a-z, 0-9, '.', '_')")
    if rule_id in seen:
        raise PatternFileError(f"duplicate id {rule_id}")
    seen.add(rule_id)
    if "near" in entry:
        near = entry["near"]
        window = entry.get("window", 3)
        if not (isinstance(near, list) and len(near) == 2 and all(isinstance(p, str) for p in near)):
            raise PatternFileError(f"{rule_id}: near must be a list of two patterns")
        if not isinstance(window, int) or not 0 <= window <= 10:
            raise PatternFileError(f"{rule_id}: window must be an integer 0..10")
        first, second = (f"(?:{_expand(p, vocab, rule_id)})" for p in near)
        gap = _gap(window)
        body = f"{first}{gap} {second}"
        if not entry.get("ordered", False):
            body += f"|{second}{gap} {first}"
    elif isinstance(entry.get("regex"), str):
        body = _expand(entry["regex"], vocab, rule_id)
    else:
        raise PatternFileError(f"{rule_id}: needs regex or near")
    try:
        regex = re.compile(anchored(body))
    except re.error as error:
        raise PatternFileError(f"{rule_id}: {error}") from error
    if regex.search("") or regex.search(" "):
        raise PatternFileError(f"{rule_id}: matches empty text")
    immediate = entry.get("immediate", False)
    if not isinstance(immediate, bool):
        raise PatternFileError(f"{rule_id}: immediate must be true or false")
    topic = entry.get("topic", False)
    if not isinstance(topic, bool):
        raise PatternFileError(f"{rule_id}: topic must be true or false")
    return Rule(id=rule_id, regex=regex, body=body, immediate=immediate, topic=topic)


def _gap(words: int) -> str:
    return f"(?: [^ ]+){{0,{words}}}"


def _expand(source: str, vocab: Mapping[str, list[str]], rule_id: str, depth: int = 0) -> str:
    """Replace {name} with the vocab alternation and {gap:N} with a bounded run of words."""
    if depth > _MAX_VOCAB_DEPTH:
        raise PatternFileError(f"{rule_id}: vocab nested too deeply")

    def vocab_group(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in vocab:
            raise PatternFileError(f"{rule_id}: unknown vocab {{{name}}}")
        return "(?:" + "|".join(_expand(item, vocab, rule_id, depth + 1) for item in vocab[name]) + ")"

    source = _VOCAB_REF.sub(vocab_group, source)
    out: list[str] = []
    position = 0
    for match in _GAP.finditer(source):
        out.append(source[position : match.start()])
        out.append(_gap(int(match.group(1))))
        following = source[match.end() : match.end() + 1]
        # "{gap:N}" stands between two words: make sure exactly one space separates it from the next.
        if following not in ("", " ", ")", "|"):
            out.append(" ")
        position = match.end()
    out.append(source[position:])
    return "".join(out)
