"""Pure redaction of personal data (phone numbers, e-mail, henkilötunnus, IBAN) from text and JSON-like data.

Used by the anonymising tracker store before anything is written, and by anything that logs (safety rule S3).
The patterns and placeholders are data (bot/safety/data/redaction.yml) so a data-protection reviewer can read them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

RULES_FILE = Path(__file__).parent / "data" / "redaction.yml"

# The order redaction runs in; see the comment in redaction.yml.
KINDS = ("email", "iban", "henkilotunnus", "phone")

# Keys of Rasa event dictionaries that hold structure, not people's words: ids, names of intents, actions,
# slots and policies. Redacting them could only break the tracker, never protect anyone.
STRUCTURAL_KEYS = frozenset({
    "event", "name", "timestamp", "message_id", "sender_id", "input_channel", "policy", "confidence",
    "intent_name", "action_name", "entity", "extractor", "processors", "start", "end", "id",
    "retrieval_intent", "utter_action",
})
MIN_IBAN_ACCOUNT_DIGITS = 8
PHONE_REGION = "FI"


@dataclass(frozen=True)
class Rules:
    """Compiled redaction rules: per kind, the placeholder and the patterns."""

    placeholders: Mapping[str, str]
    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    #: Dates and times, set aside while the phone rules run.
    not_phone: tuple[re.Pattern[str], ...] = ()


@lru_cache(maxsize=1)
def rules() -> Rules:
    with RULES_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return Rules(
        placeholders={kind: str(data["placeholders"][kind]) for kind in KINDS},
        patterns={
            kind: tuple(re.compile(p, re.IGNORECASE | re.UNICODE) for p in data["patterns"].get(kind) or [])
            for kind in KINDS
        },
        not_phone=tuple(re.compile(p, re.IGNORECASE) for p in data.get("not_phone") or []),
    )


def _iban_account_is_plausible(match: re.Match[str]) -> bool:
    # Word-like candidates ("on12 kaks...") are not accounts; real BBANs are mostly digits.
    account = match.group(0)[4:]
    return sum(ch.isdigit() for ch in account) >= MIN_IBAN_ACCOUNT_DIGITS


_ACCEPT: dict[str, Callable[[re.Match[str]], bool]] = {"iban": _iban_account_is_plausible}


def _redact_phone_numbers(text: str, placeholder: str) -> str:
    """Replace numbers the phonenumbers library finds valid (Finnish default region, any country code)."""
    if not any(ch.isdigit() for ch in text):
        return text
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
        text, PHONE_REGION, leniency=phonenumbers.Leniency.VALID, max_tries=1000)]
    for start, end in reversed(spans):
        text = text[:start] + placeholder + text[end:]
    return text


# Every rule but e-mail needs a digit, and every e-mail rule needs "@" or a written-out "at" (see the YAML).
_EMAIL_HINT = re.compile(r"@|\(a\)|\(ät\)|\bat\b", re.IGNORECASE)


def redact_text(text: str) -> str:
    """Return `text` with every phone number, e-mail address, henkilötunnus and IBAN replaced by a placeholder."""
    if not text:
        return text
    has_digit = any(ch.isdigit() for ch in text)
    if not has_digit and not _EMAIL_HINT.search(text):
        return text  # the common case for words; it keeps redaction cheap on Rasa's hot path
    compiled = rules()
    for kind in KINDS:
        if kind != "email" and not has_digit:
            continue
        placeholder = compiled.placeholders[kind]
        accept = _ACCEPT.get(kind)
        if kind == "phone":
            text, set_aside = _set_aside(text, compiled.not_phone)
            text = _redact_phone_numbers(text, placeholder)
        for pattern in compiled.patterns[kind]:
            text = pattern.sub(_replacer(placeholder, accept), text)
        if kind == "phone" and set_aside:
            text = _put_back(text, set_aside)
    return text


# Private-use characters stand in for set-aside spans: no rule matches them, and people do not type them.
_PARK_BASE = 0xF0000
_PARKED = re.compile("[\U000F0000-\U000FFFFD]")


def _put_back(text: str, spans: list[str]) -> str:
    return _PARKED.sub(lambda match: spans[ord(match.group(0)) - _PARK_BASE], text)


def _set_aside(text: str, patterns: tuple[re.Pattern[str], ...]) -> tuple[str, list[str]]:
    """The text with every span the patterns match replaced by one placeholder character, and those spans."""
    spans: list[str] = []

    def park(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return chr(_PARK_BASE + len(spans) - 1)

    for pattern in patterns:
        text = pattern.sub(park, text)
    return text, spans


def _replacer(placeholder: str, accept: Callable[[re.Match[str]], bool] | None) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        if accept is not None and not accept(match):
            return match.group(0)
        # A pattern may name the context words it needed to decide ("lead"); those words stay.
        lead = match.groupdict().get("lead") or ""
        return lead + placeholder

    return replace


def contains_personal_data(text: str) -> bool:
    """True if redaction would change `text`: a cheap check for tests and log filters."""
    return redact_text(text) != text


@lru_cache(maxsize=4096)
def redact_bot_text(text: str) -> str:
    """redact_text for the bot's own texts, remembered: they repeat (the same listing of services, the same
    questions), and the phone-number search over a listing full of service numbers is the costly part of
    redaction. Not for users' texts, nor for a bot text that may echo a name (bot.rasa_ext.tracker_store), so
    those are not kept in memory beyond the turn."""
    return redact_text(text)


def redact_data(value: Any, skip_keys: Iterable[str] = STRUCTURAL_KEYS,
                redact: Callable[[str], str] = redact_text) -> Any:
    """Redact every string inside JSON-like data (dicts, lists, strings), leaving structural keys alone."""
    skip = skip_keys if isinstance(skip_keys, frozenset) else frozenset(skip_keys)
    return _walk(value, skip, redact)


def _walk(value: Any, skip: frozenset[str], redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: (item if key in skip else _walk(item, skip, redact)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, skip, redact) for item in value]
    return value


# An action server's error reply carries the whole request, tracker and the user's words included (rasa_sdk's
# exception handler), and Rasa puts that reply into its error log: "500, Internal Server Error, body='...'".
_ECHOED_BODIES = (
    re.compile(r"body='.*"),
    re.compile(r'"request_body"\s*:.*'),
)
_BODY_NOTE = "body not logged: it may hold a conversation"


def scrub_log_text(text: str) -> str:
    """A log line without echoed request bodies and without personal data."""
    for pattern in _ECHOED_BODIES:
        text = pattern.sub(_BODY_NOTE, text)
    return redact_text(text)


def scrub_log_record(record: logging.LogRecord) -> None:
    """Rewrite a record's message and exception text through scrub_log_text, so no formatter sees the originals."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg, record.args = scrub_log_text(message), None
    if record.exc_info:
        record.exc_text = scrub_log_text(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub_log_text(record.exc_text)


class RedactingLogFilter(logging.Filter):
    """Rewrites every record, its exception text included, through scrub_log_text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_log_record(record)
        return True


def install_record_redaction() -> bool:
    """Scrub every log record of this process as it is made; idempotent. False if it was already installed.

    For a process whose handlers a library configures after our code runs (the action server: rasa_sdk and Sanic
    set up logging in their own main), where a handler filter could be replaced or missed.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "perheopas_redacting", False):
        return False

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_log_record(record)
        return record

    redacting_factory.perheopas_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
    return True


def install_log_redaction() -> int:
    """Attach RedactingLogFilter to every handler configured so far (root and named loggers); idempotent.

    Call it in a process after its logging is set up: the anonymising tracker store does so in Rasa's process.
    Returns how many handlers got the filter.
    """
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger)]
    added = 0
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingLogFilter) for f in handler.filters):
                handler.addFilter(RedactingLogFilter())
                added += 1
    return added
