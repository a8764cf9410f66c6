"""Build rasa-sdk trackers from small dicts and run actions with a CollectingDispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

REPO = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def _domain() -> dict[str, Any]:
    with (REPO / "domain.yml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def load_domain() -> dict[str, Any]:
    return _domain()


def initial_slots() -> dict[str, Any]:
    return {name: spec.get("initial_value") for name, spec in _domain()["slots"].items()} | {"requested_slot": None}


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: dict[str, str] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    extracted: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker whose latest message is `text`/`intent`/`entities`.

    `extracted` are slots Rasa's action_extract_slots set from this message (from_entity mappings); they are
    appended as trailing SlotSet events, where a form validation action looks for them.
    """
    values = initial_slots()
    values.update(slots or {})
    values.update(extracted or {})
    entity_list = [{"entity": k, "value": v, "start": 0, "end": 0} for k, v in (entities or {}).items()]
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entity_list,
              "intent_ranking": [{"name": intent, "confidence": 1.0}]}
    events = list(history or [])
    events += [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    return Tracker(
        sender_id="test-sender", slots=values, latest_message=latest, events=events, paused=False,
        followup_action=None, active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@dataclass
class Outcome:
    """What an action did: its events and what it said."""

    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("text") or "") for m in self.messages)

    @property
    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages if m.get("response")]

    @property
    def payloads(self) -> list[str]:
        return [b["payload"] for m in self.messages for b in m.get("buttons") or []]


async def run(action: Action, tracker: Tracker) -> Outcome:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, load_domain())
    return Outcome(events=list(events), messages=dispatcher.messages)
