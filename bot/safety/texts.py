"""The static safety texts (bot/safety/data/safety.yml) and the lead each triage route's reply must open with.

The same texts are Rasa's responses (domain.yml, pinned by tests/test_triage.py); the web gateway sends them itself
when Rasa's reply lacks them or Rasa is down (S1, S6, S7, S10).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.safety.triage import CLOSE_ONE, CRISIS, DANGER, HARM_THOUGHTS, NONE, YOUNG, YOUNG_DANGER, Triage

SAFETY_FILE = Path(__file__).parent / "data" / "safety.yml"


@lru_cache(maxsize=1)
def safety_texts() -> dict[str, dict[str, str]]:
    with SAFETY_FILE.open(encoding="utf-8") as handle:
        data: dict[str, dict[str, str]] = yaml.safe_load(handle)
    return data


def safety_text(key: str, language: str = "fi", **values: object) -> str:
    """A static safety text in the language asked, or in Finnish when that text has no such version."""
    versions = safety_texts()[key]
    return versions.get(language, versions["fi"]).format(**values)


#: For each triage route, the static lead that must open the reply and the numbers that show it is there
#: (S1 danger, S6 crisis, S7 a young writer). A reply from Rasa whose first message lacks them gets the lead.
LEADS: dict[str, tuple[str, tuple[str, ...]]] = {
    DANGER: ("emergency_lead", ("112", "080 005 005")),
    YOUNG_DANGER: ("young_danger_lead", ("112", "080 005 005", "116 111")),
    CRISIS: ("crisis_lead", ("112", "09 2525 011")),
    CLOSE_ONE: ("crisis_close_one_lead", ("112", "09 2525 011")),
    HARM_THOUGHTS: ("harm_thoughts_lead", ("112", "09 2525 0111")),
    YOUNG: ("young_lead", ("116 111",)),
}


def lead_for(verdict: Triage, language: str | None = None) -> str | None:
    """The static safety lead this message's reply must start with, in the message's language (core/language.py)
    or, when none is given, the language of the patterns that matched."""
    if verdict.route == NONE:
        return None
    return safety_text(LEADS[verdict.route][0], language or verdict.language)


def has_lead(verdict: Triage, replies: list[dict[str, Any]]) -> bool:
    """Whether the first message of the reply already carries what the route's lead gives."""
    if verdict.route == NONE:
        return True
    first = str(replies[0].get("text") or "") if replies else ""
    return all(number in first for number in LEADS[verdict.route][1])
