"""Swedish and English texts against the Finnish ones (S10): the same keys, {placeholders}, button payloads and phone
numbers, and every static response and safety text in all three languages.

Finnish is the complete original: actions/data/texts.yml, the unconditional variation of each domain.yml response
and the `fi` version of each bot/safety/data/safety.yml key. Replies rendered by the actions in Swedish and English
are checked in tests/actions/test_action_languages.py.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TEXTS = REPO / "actions" / "data"
TRANSLATIONS = ("sv", "en")

# A translation may name a line the Finnish text does not, only from this reviewed list (DESIGN.md, public facts):
# the MIELI crisis line's Swedish number (shorter hours) beside its Finnish 24/7 line, and the Swedish line of the
# children's and young people's helpline. Every number of the Finnish text must be in each translation.
EXTRA_NUMBERS = {
    "sv": {"0925250112", "080096116"},
    "en": {"0925250112"},
}
# The code fills both {month} and {month_name} into dates.day (actions/render.py day_full): either may be used.
INTERCHANGEABLE = {"dates.day": {"month": "month", "month_name": "month"}}

# Phone-like digit groups: "112", "080 005 005", "09 2525 0111", "116 111", "0800 96 116", "040 123 4567". Not
# parts of times, dates or ranges ("8–16", "4.12.", "1–3") nor of identifiers ("chat-2026-2"), nor "30 päivää".
_DIGIT_GROUPS = re.compile(r"\d+(?: \d+)*")
_JOINED = "–-/:"  # a digit run next to these is a range, a time or an identifier: "8–16", "24/7", "chat-2026-2"


def numbers(text: str) -> set[str]:
    text = " ".join(text.split())
    found = set()
    for match in _DIGIT_GROUPS.finditer(text):
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end():match.end() + 2] or " "
        if before.isalnum() or before in _JOINED + "." or (after[:1].isalnum() or after[:1] in _JOINED):
            continue
        if after[:1] in ".," and after[1:2].isdigit():  # 4.12., 9.00
            continue
        digits = match.group().replace(" ", "")
        if len(digits) >= 3:
            found.add(digits)
    return found


def placeholders(text: str, path: str = "") -> set[str]:
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    mapping = INTERCHANGEABLE.get(path, {})
    return {mapping.get(name, name) for name in names}


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _texts(language: str) -> dict[str, Any]:
    name = "texts.yml" if language == "fi" else f"texts.{language}.yml"
    data: dict[str, Any] = _load(TEXTS / name)
    return data


def _domain() -> dict[str, Any]:
    data: dict[str, Any] = _load(REPO / "domain.yml")
    return data


def _safety() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = _load(REPO / "bot" / "safety" / "data" / "safety.yml")
    return data


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf; list items are path[i]."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")
    else:
        yield path, node


def _shape(node: Any) -> Any:
    """The key tree with list lengths, leaves reduced to their type."""
    if isinstance(node, dict):
        return {key: _shape(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_shape(value) for value in node]
    return type(node).__name__


def _spoken(path: str) -> bool:
    """Leaves people read: not button payloads (commands) and not the consent notice's version id."""
    return not path.endswith(".payload") and not path.endswith("notice_version")


def _first_difference(fi: Any, other: Any, path: str = "") -> str | None:
    if isinstance(fi, dict) and isinstance(other, dict):
        for key in fi.keys() | other.keys():
            if key not in other:
                return f"{path}.{key} missing"
            if key not in fi:
                return f"{path}.{key} is not in texts.yml"
            found = _first_difference(fi[key], other[key], f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(fi, list) and isinstance(other, list):
        if len(fi) != len(other):
            return f"{path}: {len(other)} items, texts.yml has {len(fi)}"
        for index, (a, b) in enumerate(zip(fi, other, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if _shape(fi) == _shape(other) else f"{path}: {_shape(other)}, texts.yml has {_shape(fi)}"


def _payloads(node: Any) -> list[tuple[str, str]]:
    return [(path, str(value)) for path, value in _leaves(node) if path.endswith(".payload")]


def _number_problem(fi: str, other: str, language: str) -> str | None:
    missing = numbers(fi) - numbers(other)
    extra = numbers(other) - numbers(fi) - EXTRA_NUMBERS[language]
    if missing or extra:
        return f"missing {sorted(missing)}, unexpected {sorted(extra)}"
    return None


# --- the number finder itself ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, found", [
    ("soita 112.", {"112"}),
    ("Nollalinja 080 005 005 (24/7)", {"080005005"}),
    ("MIELI 09 2525\n    0111, ruotsiksi 09 2525 0112", {"0925250111", "0925250112"}),
    ("Lasten ja nuorten puhelin 116 111, på svenska 0800 96 116", {"116111", "080096116"}),
    ("arkisin klo 8–16, 1–3 arkipäivän, 30 päivää, suljettu 4.12., chat-2026-2, {limit} merkkiä", set()),
])
def test_numbers_are_phone_numbers_only(text: str, found: set[str]) -> None:
    assert numbers(text) == found


# --- actions/data/texts.sv.yml and texts.en.yml ------------------------------------------------------------------

@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_has_the_finnish_key_tree(language: str) -> None:
    """Every key of texts.yml, nested the same, with lists of the same length; nothing more."""
    assert _first_difference(_texts("fi"), _texts(language)) is None, _first_difference(_texts("fi"), _texts(language))


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_has_the_finnish_placeholders(language: str) -> None:
    fi = dict(_leaves(_texts("fi")))
    for path, value in _leaves(_texts(language)):
        if _spoken(path) and isinstance(value, str):
            assert placeholders(value, path) == placeholders(str(fi[path]), path), (language, path)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_buttons_send_the_finnish_payloads(language: str) -> None:
    """Payloads are commands (/inform{"urgency": "urgent"}): never translated. Every button has a title."""
    assert _payloads(_texts(language)) == _payloads(_texts("fi"))
    for path, value in _leaves(_texts(language)):
        if path.endswith(".title"):
            assert isinstance(value, str) and value.strip(), (language, path)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_gives_the_finnish_phone_numbers(language: str) -> None:
    fi = dict(_leaves(_texts("fi")))
    for path, value in _leaves(_texts(language)):
        if _spoken(path) and isinstance(value, str):
            problem = _number_problem(str(fi[path]), value, language)
            assert problem is None, (language, path, problem)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_is_filled_in(language: str) -> None:
    """A text that says something in Finnish says something in the translation (empty stays empty)."""
    fi = dict(_leaves(_texts("fi")))
    for path, value in _leaves(_texts(language)):
        if isinstance(value, str):
            assert bool(value.strip()) == bool(str(fi[path]).strip()), (language, path)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_the_consent_notice_version_is_shared(language: str) -> None:
    """The request stores the notice version and its language; the translations are of that same notice (S3)."""
    assert _texts(language)["callback"]["notice_version"] == _texts("fi")["callback"]["notice_version"]


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_day_and_time_pieces_fit_the_code(language: str) -> None:
    """actions/render.py fills dates.* with these values; each translation formats without leftovers."""
    dates = _texts(language)["dates"]
    assert len(dates["weekdays_on"]) == 7 and len(dates["months"]) == 12
    day = dates["day"].format(weekday=dates["weekdays_on"][0], day=29, month=12, month_name=dates["months"][11])
    moment = dates["moment"].format(day=day, time=dates["clock"].format(hour=9, minute="00"))
    assert "{" not in moment and "}" not in moment and "29" in moment and "9" in moment
    named = dates["named"].format(relative="x", day=day)  # render.day_named: "tomorrow, Wednesday 25 November,"
    assert "{" not in named and "}" not in named and named.startswith("x") and day in named


# --- domain.yml responses -------------------------------------------------------------------------------------

def _language(variant: dict[str, Any]) -> str | None:
    for condition in variant.get("condition") or []:
        if condition.get("name") == "reply_language":
            return str(condition.get("value"))
    return None


def _variations(name: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for variant in _domain()["responses"][name]:
        out[_language(variant) or "fi"] = variant
    return out


RESPONSES = sorted(_domain()["responses"])


def test_every_response_is_listed() -> None:
    assert len(RESPONSES) >= 20 and "utter_faq/privacy" in RESPONSES and "utter_greet" in RESPONSES


@pytest.mark.parametrize("name", RESPONSES)
def test_every_response_has_swedish_and_english(name: str) -> None:
    """A Swedish and an English variation by reply_language, before the one unconditional Finnish variation (S10)."""
    variants = _domain()["responses"][name]
    languages = [_language(v) for v in variants]
    assert sorted(languages, key=str) == sorted(["sv", "en", None], key=str), (name, languages)
    assert languages[-1] is None, f"{name}: the unconditional Finnish variation comes last"
    for variant in variants:
        assert str(variant.get("text") or "").strip(), name


@pytest.mark.parametrize("name", RESPONSES)
def test_response_translations_keep_payloads_placeholders_and_numbers(name: str) -> None:
    variants = _variations(name)
    fi = variants["fi"]
    fi_payloads = [b["payload"] for b in fi.get("buttons") or []]
    for language in TRANSLATIONS:
        variant = variants[language]
        buttons = variant.get("buttons") or []
        assert [b["payload"] for b in buttons] == fi_payloads, (name, language)
        assert all(str(b.get("title") or "").strip() for b in buttons), (name, language)
        assert placeholders(variant["text"]) == placeholders(fi["text"]), (name, language)
        problem = _number_problem(fi["text"], variant["text"], language)
        assert problem is None, (name, language, problem)


# --- bot/safety/data/safety.yml ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(_safety()))
def test_every_safety_text_is_in_three_languages(key: str) -> None:
    versions = _safety()[key]
    assert set(versions) == {"fi", "sv", "en"}, key
    for language in TRANSLATIONS:
        text = versions[language]
        assert text.strip(), (key, language)
        assert placeholders(text) == placeholders(versions["fi"]), (key, language)
        problem = _number_problem(versions["fi"], text, language)
        assert problem is None, (key, language, problem)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_safety_texts_format_in_every_language(language: str) -> None:
    from bot.safety.texts import safety_text

    assert "2000" in safety_text("too_long", language, limit=2000)
    assert safety_text("rate_limited", language) != safety_text("rate_limited", "fi")
    assert safety_text("empty", language) != safety_text("empty", "fi")


# --- what the Finnish texts promise, the translations promise too ------------------------------------------------

CONFIDENTIAL = {"sv": ("konfidentiell", "barnskyddsanmälan"), "en": ("confidential", "child welfare notification")}


def _all_strings(language: str) -> list[str]:
    strings = [str(v) for p, v in _leaves(_texts(language)) if _spoken(p) and isinstance(v, str)]
    strings += [str(_variations(name)[language]["text"]) for name in RESPONSES]
    strings += [versions[language] for versions in _safety().values()]
    return [" ".join(s.split()) for s in strings]


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_confidentiality_text_states_the_reporting_duty(language: str) -> None:
    """S9 in every language: confidentiality is never promised without the child-welfare reporting duty."""
    word, duty = CONFIDENTIAL[language]
    confidential = [s for s in _all_strings(language) if word in s.lower()]
    assert confidential
    for text in confidential:
        assert duty in text, text[:60]


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_nollalinja_has_its_name_in_each_language(language: str) -> None:
    """Swedish says Nollinjen (DESIGN.md); English keeps the service's own name, Nollalinja."""
    strings = _all_strings(language)
    with_number = [s for s in strings if "080 005 005" in s]
    assert with_number
    for text in with_number:
        if language == "sv":
            assert "Nollinjen" in text and "Nollalinja" not in text, text[:60]
        else:
            assert "Nollalinja" in text, text[:60]


async def test_rasa_picks_the_variation_of_the_conversation_s_language() -> None:
    """Rasa's own response generator: reply_language sv/en gets that variation (buttons with the single-brace
    payloads Rasa sends), no language or another one gets the Finnish."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(REPO / "domain.yml"))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    for language in (None, "fi", "xx", *TRANSLATIONS):
        events = [SlotSet("reply_language", language)] if language else []
        tracker = DialogueStateTracker.from_events("translations", events, domain.slots)
        for name in RESPONSES:
            expected = _variations(name)[language if language in TRANSLATIONS else "fi"]
            said = await nlg.generate(name, tracker, "rest")
            assert said is not None and said["text"] == expected["text"], (name, language)
            sent = [b["payload"] for b in said.get("buttons") or []]
            assert sent == [b["payload"].replace("{{", "{").replace("}}", "}") for b in expected.get("buttons") or []]
