"""Finnish phone numbers for callbacks: find, validate and normalise to E.164 with `phonenumbers`.

Staff call and text only Finnish numbers (mainland and Åland share +358). Service and premium-rate
numbers (0800, 0600, 116 xxx …) are refused: nobody can be called back on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

REGIONS = ("FI", "AX")
CALLABLE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
MAX_INPUT_CHARS = 200

# Reasons are keys, not sentences: callers word them for the user.
OK = "ok"
NO_NUMBER = "no_number"
INVALID = "invalid"
NOT_FINNISH = "not_finnish"
NOT_CALLABLE = "not_callable"
NOT_MOBILE = "not_mobile"

_DIGIT_RUN = re.compile(r"\d")


@dataclass(frozen=True)
class PhoneCheck:
    """The outcome of reading a phone number from what the user typed."""

    reason: str
    e164: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason == OK


def _candidates(text: str) -> list[phonenumbers.PhoneNumber]:
    """Numbers written in the text, also inside a sentence ("numeroni on 040 123 4567")."""
    text = text[:MAX_INPUT_CHARS]
    found = [match.number for match in PhoneNumberMatcher(text, "FI", leniency=phonenumbers.Leniency.POSSIBLE)]
    if found:
        return found
    compact = re.sub(r"[\s\-()/.]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if re.fullmatch(r"\+?\d{5,15}", compact):
        try:
            return [phonenumbers.parse(compact, "FI")]
        except NumberParseException:
            return []
    return []


def looks_like_phone(text: str) -> bool:
    """True when the text holds something number-like, even an invalid one (used to route form answers)."""
    return len(_DIGIT_RUN.findall(text or "")) >= 5


def check_phone(text: str, for_sms: bool = False) -> PhoneCheck:
    """Find one Finnish number in `text`; OK with the E.164 form, or the reason it cannot be used."""
    candidates = _candidates(text or "")
    if not candidates:
        return PhoneCheck(INVALID if looks_like_phone(text) else NO_NUMBER)
    first_problem = INVALID
    for number in candidates:
        if not phonenumbers.is_valid_number(number):
            continue
        if phonenumbers.region_code_for_number(number) not in REGIONS:
            first_problem = NOT_FINNISH if first_problem == INVALID else first_problem
            continue
        kind = phonenumbers.number_type(number)
        if kind not in CALLABLE_TYPES:
            first_problem = NOT_CALLABLE
            continue
        if for_sms and kind not in SMS_TYPES:
            first_problem = NOT_MOBILE
            continue
        return PhoneCheck(OK, phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return PhoneCheck(first_problem)


def normalise_phone(text: str, for_sms: bool = False) -> str | None:
    """The E.164 form of a usable Finnish number in `text`, else None."""
    return check_phone(text, for_sms).e164


def last_digits(e164: str, count: int = 2) -> str:
    """The last digits only, for confirming a number without repeating it whole in the chat."""
    return e164[-count:]
