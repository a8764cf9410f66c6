"""Finnish phone numbers for callbacks (core/phone.py): mobile and landline, E.164, clear reasons on error."""

from __future__ import annotations

import pytest

from core.phone import TOO_LONG, check_phone, last_digits, looks_like_phone, national_phone, normalise_phone


@pytest.mark.parametrize("text, e164", [
    ("040 123 4567", "+358401234567"),
    ("0401234567", "+358401234567"),
    ("040-1234567", "+358401234567"),
    ("+358 40 123 4567", "+358401234567"),
    ("00358401234567", "+358401234567"),
    ("numeroni on 050 765 4321, kiitos", "+358507654321"),
    ("09 123 4567", "+35891234567"),          # Helsinki landline
    ("(09) 1234 567", "+35891234567"),
    ("018 12345", "+3581812345"),             # Åland landline
])
def test_valid_numbers(text: str, e164: str) -> None:
    assert normalise_phone(text) == e164


@pytest.mark.parametrize("text, reason", [
    ("", "no_number"),
    ("en muista", "no_number"),
    ("040 123", "invalid"),
    ("12345", "invalid"),
    ("+46 70 123 45 67", "not_finnish"),
    ("0800 123 456", "not_callable"),
    ("0600 12345", "not_callable"),
])
def test_refused_numbers(text: str, reason: str) -> None:
    check = check_phone(text)
    assert not check.ok and check.reason == reason and check.e164 is None


def test_sms_needs_a_mobile() -> None:
    assert check_phone("09 123 4567", for_sms=True).reason == "not_mobile"
    assert check_phone("045 123 4567", for_sms=True).e164 == "+358451234567"


def test_helpers() -> None:
    assert looks_like_phone("040 12") and not looks_like_phone("Maija")
    assert last_digits("+358401234567") == "67"


def test_a_form_field_refuses_long_input_rather_than_searching_it() -> None:
    # The web form's phone field (max 40 characters): a number inside a long text is not read from it.
    padded = "numero " + "x" * 40 + " 040 123 4567"
    assert check_phone(padded, max_chars=40).reason == TOO_LONG
    assert check_phone(padded).e164 == "+358401234567"
    assert check_phone("040 123 4567", max_chars=40).e164 == "+358401234567"


@pytest.mark.parametrize("e164, shown", [("+358401234567", "040 1234567"), ("+35891234567", "09 1234567"),
                                         ("not a number", "not a number")])
def test_staff_see_the_national_form(e164: str, shown: str) -> None:
    assert national_phone(e164) == shown
