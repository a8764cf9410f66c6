"""Data-driven topic classification (catalog/data/topics.yml) and target-age extraction for channels."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from catalog.models import KINDS, SCOPES
from core.finnish import fold

TOPICS_PATH = Path(__file__).resolve().parent / "data" / "topics.yml"


class TopicConfigError(ValueError):
    """topics.yml is not valid; the message names the topic and field."""


@dataclass(frozen=True)
class TopicRule:
    name: str
    label_fi: str
    parents: tuple[str, ...] = ()
    service_classes: tuple[str, ...] = ()
    life_events: frozenset[str] = frozenset()
    target_groups: frozenset[str] = frozenset()
    ontology_terms: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    # Each list of patterns is compiled into one alternation: one search per topic, not per pattern.
    name_patterns: re.Pattern[str] | None = None
    text_patterns: re.Pattern[str] | None = None
    exclude_patterns: re.Pattern[str] | None = None
    channel_kinds: frozenset[str] | None = None


@dataclass(frozen=True)
class AgeRule:
    pattern: re.Pattern[str]
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class CrisisStep:
    topic: str
    scope: str
    kind: str | None = None
    always_open: bool = False


@dataclass(frozen=True)
class TopicConfig:
    topics: dict[str, TopicRule]
    age_rules: tuple[AgeRule, ...]
    crisis: tuple[CrisisStep, ...]
    stopwords: frozenset[str]


@dataclass
class ClassifierInput:
    """What classification looks at: the channel's kind, names and texts, and its services' terms."""

    kind: str
    names: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    terms: list[tuple[str, str, str | None]] = field(default_factory=list)


def _compile(patterns: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if patterns is None:
        return ()
    if not isinstance(patterns, list):
        raise TopicConfigError(f"{where}: expected a list of regular expressions")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(str(pattern), re.IGNORECASE))
        except re.error as exc:
            raise TopicConfigError(f"{where}: bad regular expression {pattern!r}: {exc}") from None
    return tuple(compiled)


def _combine(patterns: Any, where: str) -> re.Pattern[str] | None:
    compiled = _compile(patterns, where)
    if not compiled:
        return None
    return re.compile("|".join(f"(?:{p.pattern})" for p in compiled), re.IGNORECASE)


def _words(values: Any, where: str) -> frozenset[str]:
    if values is None:
        return frozenset()
    if not isinstance(values, list):
        raise TopicConfigError(f"{where}: expected a list")
    return frozenset(str(v).strip().lower() for v in values)


def parse_config(data: Any) -> TopicConfig:
    """Build and check a TopicConfig from the parsed YAML document."""
    if not isinstance(data, dict) or not isinstance(data.get("topics"), dict):
        raise TopicConfigError("topics.yml needs a `topics:` mapping")
    allowed = {
        "label_fi",
        "parents",
        "service_classes",
        "life_events",
        "target_groups",
        "ontology_terms",
        "keywords",
        "name_patterns",
        "text_patterns",
        "exclude_patterns",
        "channel_kinds",
    }
    topics: dict[str, TopicRule] = {}
    for name, spec in data["topics"].items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", str(name)):
            raise TopicConfigError(f"topic name {name!r}: use lower-case ASCII letters, digits and _")
        spec = spec or {}
        unknown = set(spec) - allowed
        if unknown:
            raise TopicConfigError(f"topic {name}: unknown fields {sorted(unknown)}")
        kinds = spec.get("channel_kinds")
        if kinds is not None and not set(kinds) <= set(KINDS):
            raise TopicConfigError(f"topic {name}: channel_kinds must be among {KINDS}")
        topics[name] = TopicRule(
            name=name,
            label_fi=str(spec.get("label_fi") or name),
            parents=tuple(spec.get("parents") or ()),
            service_classes=tuple(str(c) for c in spec.get("service_classes") or ()),
            life_events=_words(spec.get("life_events"), f"{name}.life_events"),
            target_groups=_words(spec.get("target_groups"), f"{name}.target_groups"),
            ontology_terms=_words(spec.get("ontology_terms"), f"{name}.ontology_terms"),
            keywords=_words(spec.get("keywords"), f"{name}.keywords"),
            name_patterns=_combine(spec.get("name_patterns"), f"{name}.name_patterns"),
            text_patterns=_combine(spec.get("text_patterns"), f"{name}.text_patterns"),
            exclude_patterns=_combine(spec.get("exclude_patterns"), f"{name}.exclude_patterns"),
            channel_kinds=frozenset(kinds) if kinds is not None else None,
        )
    for rule in topics.values():
        for parent in rule.parents:
            if parent not in topics:
                raise TopicConfigError(f"topic {rule.name}: unknown parent {parent!r}")
    age_rules = []
    for i, spec in enumerate(data.get("age_rules") or []):
        (pattern,) = _compile([spec.get("pattern")], f"age_rules[{i}]")
        age_rules.append(AgeRule(pattern, spec.get("min"), spec.get("max")))
    crisis = []
    for i, spec in enumerate(data.get("crisis") or []):
        step = CrisisStep(
            topic=spec.get("topic"),
            scope=spec.get("scope"),
            kind=spec.get("kind"),
            always_open=bool(spec.get("always_open", False)),
        )
        if step.topic not in topics or step.scope not in SCOPES or (step.kind and step.kind not in KINDS):
            raise TopicConfigError(f"crisis[{i}]: needs a known topic, scope {SCOPES} and optional kind {KINDS}")
        crisis.append(step)
    return TopicConfig(
        topics=topics,
        age_rules=tuple(age_rules),
        crisis=tuple(crisis),
        stopwords=frozenset(fold(str(w)) for w in data.get("search_stopwords") or ()),
    )


@lru_cache(maxsize=4)
def load_topics(path: Path | str = TOPICS_PATH) -> TopicConfig:
    """The topic configuration (cached; the file is read once per process)."""
    with open(path, encoding="utf-8") as handle:
        return parse_config(yaml.safe_load(handle))


def topic_names(config: TopicConfig | None = None) -> list[str]:
    return sorted((config or load_topics()).topics)


def _class_matches(codes: Iterable[str], wanted: Sequence[str]) -> bool:
    return any(code == w or code.startswith(w + ".") for code in codes for w in wanted)


def classify(inp: ClassifierInput, config: TopicConfig | None = None) -> set[str]:
    """Topics for one channel, including parents."""
    config = config or load_topics()
    # One newline-joined string per field: a pattern never spans two names (none matches a newline).
    names = "\n".join(n.lower() for n in inp.names if n)
    texts = "\n".join([names, *(t.lower() for t in inp.texts if t)])
    by_kind: dict[str, set[str]] = {}
    labels: set[str] = set()
    for kind, code, label in inp.terms:
        by_kind.setdefault(kind, set()).add(code if kind == "service_class" else code.lower())
        if kind == "ontology_term" and label:
            labels.add(label.lower())
    classes = by_kind.get("service_class", set())
    ontology = by_kind.get("ontology_term", set()) | labels
    found: set[str] = set()
    for rule in config.topics.values():
        if rule.channel_kinds is not None and inp.kind not in rule.channel_kinds:
            continue
        if rule.exclude_patterns is not None and rule.exclude_patterns.search(names):
            continue
        if (
            (rule.service_classes and _class_matches(classes, rule.service_classes))
            or rule.life_events & by_kind.get("life_event", set())
            or rule.target_groups & by_kind.get("target_group", set())
            or rule.ontology_terms & ontology
            or rule.keywords & by_kind.get("keyword", set())
            or (rule.name_patterns is not None and rule.name_patterns.search(names))
            or (rule.text_patterns is not None and rule.text_patterns.search(texts))
        ):
            found.add(rule.name)
    pending = list(found)
    while pending:
        for parent in config.topics[pending.pop()].parents:
            if parent not in found:
                found.add(parent)
                pending.append(parent)
    return found


def age_range(names: Iterable[str], config: TopicConfig | None = None) -> tuple[int | None, int | None]:
    """(min, max) child age from names like "Lasten eroryhmä 7–12-vuotiaille"; (None, None) if none."""
    config = config or load_topics()
    lowered = [n.lower() for n in names if n]
    for rule in config.age_rules:
        for name in lowered:
            match = rule.pattern.search(name)
            if not match:
                continue
            groups = match.groupdict()
            low = int(groups["min"]) if groups.get("min") else rule.min_age
            high = int(groups["max"]) if groups.get("max") else rule.max_age
            if groups.get("below"):
                low, high = 0, max(int(groups["below"]) - 1, 0)
            if low is not None and high is not None and low > high:
                continue
            return low, high
    return None, None
