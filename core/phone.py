"""Finnish phone numbers, with `phonenumbers`: the one place that reads, normalises and formats them.

Callbacks: find a number in what the person typed and normalise it to E.164 (the conversation and the web form).
Staff call and text only Finnish numbers (mainland and Åland share +358). Service and premium-rate numbers
(0800, 0600, 116 xxx …) are refused: nobody can be called back on them.

Display: the national form staff dial (:func:`national_phone`) and the catalogue's display form of a PTV number
(:func:`format_phone`).
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
TOO_LONG = "too_long"

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


def check_phone(text: str, for_sms: bool = False, max_chars: int | None = None) -> PhoneCheck:
    """Find one Finnish number in `text`; OK with the E.164 form, or the reason it cannot be used.

    `max_chars` refuses longer input outright (TOO_LONG), for a form field that holds a number and nothing else;
    without it, a number is looked for in the first MAX_INPUT_CHARS characters of a free message.
    """
    if max_chars is not None and len(text or "") > max_chars:
        return PhoneCheck(TOO_LONG)
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


def national_phone(e164: str) -> str:
    """'+358401234567' → '040 1234567', as staff dial it; anything unparsable is shown as stored."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "FI"), PhoneNumberFormat.NATIONAL)
    except NumberParseException:
        return e164


def format_phone(prefix: str | None, number: str, service_number: bool = False) -> str:
    """A Finnish national display form: keeps PTV's own spacing, else groups digits sensibly."""
    number = number.strip()
    national = number
    if prefix and prefix.replace(" ", "") in ("+358", "358", "00358") and not number.startswith("0"):
        national = "0" + number
    elif prefix and prefix.replace(" ", "") not in ("+358", "358", "00358"):
        return f"{prefix} {number}"
    if " " in national or service_number or len(re.sub(r"\D", "", national)) <= 6:
        return national
    try:
        parsed = phonenumbers.parse(national, "FI")
    except phonenumbers.NumberParseException:
        return national
    if not phonenumbers.is_valid_number(parsed):
        return national
    digits = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
    if digits.startswith("04") or digits.startswith("050"):
        head = 4 if digits.startswith("045") and len(digits) == 11 else 3
        rest = digits[head:]
        return f"{digits[:head]} {rest[:3]} {rest[3:]}".strip()
    if digits.startswith(("02", "03", "05", "06", "08", "09")) and len(digits) >= 8:
        rest = digits[2:]
        return f"{digits[:2]} {rest[: len(rest) - 4]} {rest[-4:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
