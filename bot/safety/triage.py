"""Deterministic safety triage of one message: danger (S1), crisis (S6) and a young writer (S7).

Three reviewed pattern files drive it, all with the syntax of ``bot/safety/danger.py``:
``danger_patterns.yml``, ``crisis_patterns.yml`` and ``young_writer_patterns.yml``. A learned model
(``bot/safety/learned.py``) gives a second opinion on danger and crisis, because patterns miss wording nobody
here wrote: it adds the messages it is sure of, and it vetoes a danger pattern's hit it finds very unlikely,
unless the hit says the danger is present now. The verdict names the one
*route* the first reply must take and the language the matched patterns were written in. It is used in three
places, so that the first reply is safe whatever fails: the Rasa component that overrules the classifier
(``bot.rasa_ext.components.danger``), the web gateway (leads and the reply when Rasa is down) and the contact form.
Like the danger detector, it never returns any part of the user's text: only pattern ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.safety.danger import (
    DangerAssessment,
    PatternFileError,
    PatternSet,
    anchored,
    assess,
    compile_patterns,
    default_patterns,
    has_immediacy_cue,
    has_negative,
    normalise,
)
from bot.safety.learned import MAX_SCORED_CHARS, LearnedModel, LearnedScores, default_model
from core.language import LANGUAGES

DATA = Path(__file__).parent / "data"
CRISIS_PATTERNS_PATH = DATA / "crisis_patterns.yml"
YOUNG_PATTERNS_PATH = DATA / "young_writer_patterns.yml"

# Routes, in the order they win (see route_for).
CRISIS = "crisis"                # suicidal thoughts or self-harm: 112 and the MIELI crisis line first
CLOSE_ONE = "close_one"          # someone close (a child, a partner) hurts themselves or speaks of suicide
HARM_THOUGHTS = "harm_thoughts"  # a parent's frightening thoughts of harming their baby: neuvola, päivystys, MIELI
YOUNG_DANGER = "young_danger"    # a child or teen tells of danger: 112, 116 111, Nollalinja, a safe adult
DANGER = "danger"                # violence, a threat or danger: 112 and Nollalinja first (S1)
YOUNG = "young"                  # a child or teen writes: 116 111 and a safe adult first
NONE = "none"

CRISIS_KINDS = ("suicide", "self_harm", "close_one", "harm_thoughts")

# The ids the learned model adds to ``matched``: it found danger or a crisis the patterns missed, or it overruled
# a danger pattern's hit. They name no language, so the reply's language comes from the message (core/language.py).
LEARNED_DANGER = "learned.danger"
LEARNED_VETO = "learned.danger_veto"
LEARNED_CRISIS = {"suicide": "learned.suicide", "harm_thoughts": "learned.harm_thoughts"}

#: The intent each route gives the message in Rasa (bot.rasa_ext.components.danger); the danger route keeps the
#: classifier's violence intent when it has one, and is decided there.
ROUTES = (CRISIS, CLOSE_ONE, HARM_THOUGHTS, YOUNG_DANGER, DANGER, YOUNG, NONE)
#: Where the web gateway hands its verdict to Rasa in the REST metadata, so the message is triaged once.
METADATA_KEY = "triage"

ROUTE_INTENTS = {
    CRISIS: "crisis_suicidal",
    CLOSE_ONE: "crisis_close_one",
    HARM_THOUGHTS: "crisis_harm_thoughts",
    YOUNG_DANGER: "young_writer_danger",
    YOUNG: "young_writer",
}


@dataclass(frozen=True)
class Triage:
    """The verdict on one message; ``matched`` holds pattern ids only, never user text."""

    route: str
    danger: DangerAssessment
    crisis: str | None = None
    young: bool = False
    language: str = "fi"
    matched: tuple[str, ...] = ()
    scores: LearnedScores | None = None

    @property
    def pattern_language(self) -> str | None:
        """The language of the matched patterns, or None when no pattern told it (the learned model's verdict)."""
        if self.route == NONE or not {rule_id.split(".")[0] for rule_id in self.matched} & set(LANGUAGES):
            return None
        return self.language

    @property
    def intent(self) -> str | None:
        """The intent this route forces in Rasa, or None where the danger layer or the classifier decides."""
        return ROUTE_INTENTS.get(self.route)


@dataclass(frozen=True)
class YoungPatterns:
    """The young-writer cues and the parent's-view patterns that cancel them."""

    cues: PatternSet
    parent_view: re.Pattern[str]


def to_metadata(verdict: Triage) -> dict[str, Any]:
    """The verdict as plain JSON for the REST metadata: pattern ids, flags and scores, never the user's text."""
    scores = verdict.scores
    return {
        "route": verdict.route,
        "danger": {"is_danger": verdict.danger.is_danger, "immediate": verdict.danger.immediate,
                   "matched": list(verdict.danger.matched)},
        "crisis": verdict.crisis,
        "young": verdict.young,
        "language": verdict.language,
        "matched": list(verdict.matched),
        "scores": None if scores is None else [scores.danger, scores.crisis, scores.harm_thoughts],
    }


def from_metadata(data: Any) -> Triage | None:
    """The verdict the gateway handed over, or None when there is none or it is not exactly what to_metadata makes
    (then the caller triages the text itself: a malformed hand-over never weakens the first reply)."""
    if not isinstance(data, dict):
        return None
    try:
        danger, ids, scores = data["danger"], data["matched"], data["scores"]
        valid = (
            data["route"] in ROUTES and data["crisis"] in (None, "suicide", "self_harm", "close_one", "harm_thoughts")
            and isinstance(danger, dict) and isinstance(danger["is_danger"], bool)
            and isinstance(danger["immediate"], bool) and isinstance(data["young"], bool)
            and data["language"] in LANGUAGES and _ids(danger["matched"]) and _ids(ids)
            and (scores is None or (isinstance(scores, list) and len(scores) == 3
                                    and all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in scores)))
        )
        if not valid:
            return None
        return Triage(
            route=data["route"],
            danger=DangerAssessment(is_danger=danger["is_danger"], immediate=danger["immediate"],
                                    matched=tuple(danger["matched"])),
            crisis=data["crisis"],
            young=data["young"],
            language=data["language"],
            matched=tuple(ids),
            scores=None if scores is None else LearnedScores(*(float(v) for v in scores)),
        )
    except (KeyError, TypeError):
        return None


def _ids(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and _RULE_ID.match(item) for item in value)


_RULE_ID = re.compile(r"^[a-z0-9_.]{1,80}$")


def triage(text: str) -> Triage:
    """Triage one message with the bundled pattern files and the bundled learned model."""
    return triage_with(text, default_patterns(), crisis_patterns(), young_patterns(), default_model())


def triage_with(text: str, danger_rules: PatternSet, crisis_rules: PatternSet, young: YoungPatterns,
                learned: LearnedModel | None = None) -> Triage:
    """Triage ``text`` with explicit pattern sets and, optionally, a learned model (tests and benchmarks)."""
    plain = normalise(text)  # folded once for every layer (each pattern file adds only its emoji words)
    danger = assess(text, danger_rules, plain)
    crisis_verdict = assess(text, crisis_rules, plain)
    crisis = _crisis_kind(crisis_verdict.matched) if crisis_verdict.is_danger else None
    crisis_ids = crisis_verdict.matched
    scores = None
    if learned is not None:
        # The model folds the first MAX_SCORED_CHARS of the raw text, as in training; most messages are shorter.
        scores = learned.scores(text, plain if len(text) <= MAX_SCORED_CHARS else None)
        danger = _learned_danger(text, danger, scores, learned, danger_rules, plain)
        # A crisis negative ("cut myself shaving", "kuoli itsemurhaan") explains the words the model reacts to.
        if crisis is None and not has_negative(text, crisis_rules, plain):
            crisis = _learned_crisis(scores, learned, danger.is_danger)
            crisis_ids = (LEARNED_CRISIS[crisis],) if crisis else ()
    young_verdict = assess(text, young.cues, plain)
    is_young = young_verdict.is_danger and not young.parent_view.search(plain)
    route = route_for(danger.is_danger, crisis, is_young)
    matched = danger.matched + crisis_ids + (young_verdict.matched if is_young else ())
    return Triage(
        route=route,
        danger=danger,
        crisis=crisis,
        young=is_young,
        language=_language(matched) if route != NONE else "fi",
        matched=matched,
        scores=scores,
    )


def _learned_danger(text: str, patterns: DangerAssessment, scores: LearnedScores, learned: LearnedModel,
                    rules: PatternSet, plain: str) -> DangerAssessment:
    """The patterns' danger verdict with the learned model's second opinion.

    A hit that says the danger is present now always stands: a false alarm there costs a moment, a miss may cost
    a life. Any other hit the model finds very unlikely is dropped (an idiom, a toddler who hits), and a message
    the patterns missed is danger when the model is sure; its immediacy then comes from the present-danger cues.
    (The pattern file's negatives do not gate the model here as they do for a crisis: on the held-out set that
    cost a danger message and saved no false alarm.)
    """
    thresholds = learned.thresholds
    if patterns.is_danger:
        if patterns.immediate or scores.danger >= thresholds.danger_veto:
            return patterns
        return DangerAssessment(is_danger=False, immediate=False, matched=(LEARNED_VETO,))
    if scores.danger >= thresholds.danger:
        return DangerAssessment(is_danger=True, immediate=has_immediacy_cue(text, rules, plain),
                                matched=(LEARNED_DANGER,))
    return patterns


def _learned_crisis(scores: LearnedScores, learned: LearnedModel, danger: bool) -> str | None:
    """A crisis the crisis patterns missed, when the model is sure of one; the likelier of the two kinds.

    The model's "thoughts of harming the baby" never replace danger the patterns found: "pelkään että se satuttaa
    vauvaa" is about someone else, and the reply for a parent's own thoughts would leave out 112 and Nollalinja.
    """
    threshold = learned.thresholds.crisis
    if scores.crisis >= threshold and scores.crisis >= scores.harm_thoughts:
        return "suicide"
    if scores.harm_thoughts >= threshold and not danger:
        return "harm_thoughts"
    return None


def route_for(danger: bool, crisis: str | None, young: bool) -> str:
    """The one route the first reply takes.

    A crisis of the writer's own comes first: its reply carries 112 as the danger reply does. Someone close in
    crisis comes after danger (a partner who threatens to kill himself if she leaves is coercion first). A parent's
    frightening thoughts of harming a baby are a health matter and never the path for people who use violence,
    even when the danger patterns also see a harming verb (S6). A young writer's danger gets a reply that speaks
    to a child (S7).
    """
    if crisis in ("suicide", "self_harm"):
        return CRISIS
    if crisis == "harm_thoughts":
        return HARM_THOUGHTS
    if danger:
        return YOUNG_DANGER if young else DANGER
    if crisis == "close_one":
        return CLOSE_ONE
    return YOUNG if young else NONE


def _crisis_kind(matched: tuple[str, ...]) -> str | None:
    """The kind that decides the reply: a close one's crisis wins over the person-neutral self-harm words
    ("tyttäreni viiltelee" also matches "viiltelee"), the writer's own suicidal words win over both."""
    kinds = {rule_id.split(".")[1] for rule_id in matched if rule_id.count(".") >= 2}
    own = {rule_id.split(".")[1] for rule_id in matched if rule_id.count(".") >= 2 and not _neutral(rule_id)}
    if "close_one" in kinds and not own & {"suicide", "self_harm"}:
        return "close_one"
    for kind in ("suicide", "self_harm", "harm_thoughts"):
        if kind in kinds:
            return kind
    return None


def _neutral(rule_id: str) -> bool:
    """Rules that name a crisis without saying whose it is ("itsemurha", "viiltely")."""
    return rule_id.endswith(".term") or rule_id.endswith("self_harm.cut")


def _language(matched: tuple[str, ...]) -> str:
    """fi unless every matched pattern is Swedish, or every one is English (the ids start with the language)."""
    languages = {rule_id.split(".")[0] for rule_id in matched} & set(LANGUAGES)
    if len(languages) == 1:
        return languages.pop()
    return "fi"


@lru_cache(maxsize=1)
def crisis_patterns() -> PatternSet:
    """The bundled crisis patterns, compiled once per process."""
    return _load(CRISIS_PATTERNS_PATH)


@lru_cache(maxsize=1)
def young_patterns() -> YoungPatterns:
    """The bundled young-writer cues, compiled once per process."""
    return load_young_patterns(YOUNG_PATTERNS_PATH)


def load_young_patterns(path: Path | str) -> YoungPatterns:
    data = _read(path)
    parent_view = data.get("parent_view") or []
    if not isinstance(parent_view, list) or not all(isinstance(p, str) for p in parent_view) or not parent_view:
        raise PatternFileError(f"{path}: parent_view must be a non-empty list of patterns")
    try:
        regex = re.compile(anchored("|".join(f"(?:{p})" for p in parent_view)))
    except re.error as error:
        raise PatternFileError(f"{path}: parent_view: {error}") from error
    return YoungPatterns(cues=compile_patterns(data), parent_view=regex)


def _load(path: Path | str) -> PatternSet:
    return compile_patterns(_read(path))


def _read(path: Path | str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PatternFileError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise PatternFileError(f"{path}: the pattern file must be a mapping")
    return data


def warm_up() -> None:
    """Compile every pattern file and load the learned model now, so a broken file fails at start and not on a
    parent's message."""
    default_patterns()
    crisis_patterns()
    young_patterns()
    default_model()
