"""The needs a parent can have (data/needs.yml): which intents mean them and what the bot looks up for each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from actions.parsing import load_yaml
from bot.callbacks.vocabulary import TOPICS as CALLBACK_TOPICS
from bot.callbacks.vocabulary import VIOLENCE_TOPIC

MUNICIPALITY_REQUIRED = "required"
MUNICIPALITY_OPTIONAL = "optional"
MUNICIPALITY_NONE = "none"

STYLE_PLACES = "places"
STYLE_SERVICES = "services"
STYLE_VIOLENCE_OPTIONS = "violence_options"

DEFAULT_NEED = "kohtaamispaikka"
VIOLENCE_OPTIONS = "vv_options"


@dataclass(frozen=True)
class Need:
    name: str
    intents: tuple[str, ...]
    callback_topic: str
    topics: tuple[str, ...]
    national_topics: tuple[str, ...]
    municipality: str
    age_matters: bool
    style: str
    related: tuple[str, ...]

    @property
    def is_violence(self) -> bool:
        return self.callback_topic == VIOLENCE_TOPIC


@lru_cache(maxsize=1)
def load_needs() -> dict[str, Need]:
    raw = load_yaml("needs.yml")["needs"]
    needs = {
        name: Need(
            name=name,
            intents=tuple(entry.get("intents") or ()),
            callback_topic=entry["callback_topic"],
            topics=tuple(entry.get("topics") or ()),
            national_topics=tuple(entry.get("national_topics") or ()),
            municipality=entry.get("municipality", MUNICIPALITY_REQUIRED),
            age_matters=bool(entry.get("age_matters", False)),
            style=entry.get("style", STYLE_SERVICES),
            related=tuple(entry.get("related") or ()),
        )
        for name, entry in raw.items()
    }
    for need in needs.values():
        if need.callback_topic not in CALLBACK_TOPICS:
            raise ValueError(f"needs.yml: {need.name} has unknown callback_topic {need.callback_topic!r}")
        if need.municipality not in (MUNICIPALITY_REQUIRED, MUNICIPALITY_OPTIONAL, MUNICIPALITY_NONE):
            raise ValueError(f"needs.yml: {need.name} has unknown municipality rule {need.municipality!r}")
        unknown = [r for r in need.related if r not in raw]
        if unknown:
            raise ValueError(f"needs.yml: {need.name} relates to unknown needs {unknown}")
    return needs


def get_need(name: str | None) -> Need | None:
    return load_needs().get(name or "")


def need_for_intent(intent: str | None) -> Need | None:
    """The need an intent expresses, e.g. ero_child_arrangements → ero_arrangements."""
    for need in load_needs().values():
        if intent in need.intents:
            return need
    return None
