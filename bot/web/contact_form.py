"""Validation of the web chat's contact-request form (Pyydä apua), used when the conversation cannot run it.

It returns error keys, not sentences: the web layer turns them into the user's UI language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.callbacks.queue import NewCallback
from bot.callbacks.vocabulary import CONTACT_METHODS, SMS, TIME_WINDOWS, TOPICS
from core import phone as phones

MAX_ALIAS_CHARS = 40
MAX_MUNICIPALITY_CHARS = 60
MAX_PHONE_INPUT_CHARS = 40
NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")


@dataclass(frozen=True)
class FieldError:
    """One invalid field: the text key of the message and values for its placeholders."""

    key: str
    values: tuple[tuple[str, object], ...] = ()


def _optional_name(value: Any, limit: int) -> tuple[str | None, FieldError | None]:
    if value is None:
        return None, None
    text = " ".join(str(value).split())
    if not text:
        return None, None
    if len(text) > limit or not NAME.match(text):
        return None, FieldError("err_name", (("limit", limit),))
    return text, None


def validate_contact_form(body: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, FieldError]]:
    """Check the submitted fields; returns (clean values, {}) or (None, {field: error})."""
    errors: dict[str, FieldError] = {}
    clean: dict[str, Any] = {}
    for field_name, allowed in (("topic", TOPICS), ("contact_method", CONTACT_METHODS),
                                ("time_window", TIME_WINDOWS)):
        value = body.get(field_name)
        if value not in allowed:
            errors[field_name] = FieldError("err_choose")
        else:
            clean[field_name] = value
    phone_raw = body.get("phone")
    # core.phone reads the number; only the error's wording is the form's own.
    phone = phones.check_phone(phone_raw if isinstance(phone_raw, str) else "",
                               for_sms=clean.get("contact_method") == SMS, max_chars=MAX_PHONE_INPUT_CHARS)
    if not phone.ok:
        errors["phone"] = FieldError("err_sms_mobile" if phone.reason == phones.NOT_MOBILE else "err_phone")
    clean["phone"] = phone.e164
    clean["alias"], alias_error = _optional_name(body.get("alias"), MAX_ALIAS_CHARS)
    if alias_error:
        errors["alias"] = alias_error
    clean["municipality"], municipality_error = _optional_name(body.get("municipality"), MAX_MUNICIPALITY_CHARS)
    if municipality_error:
        errors["municipality"] = municipality_error
    # Only an explicit JSON true counts as consent (S3): no defaults, no truthy strings.
    if body.get("consent") is not True:
        errors["consent"] = FieldError("err_consent")
    return (None, errors) if errors else (clean, {})


def new_callback(clean: dict[str, Any], callback_due: Any, notice_version: str, language: str = "fi") -> NewCallback:
    return NewCallback(
        topic=clean["topic"],
        contact_method=clean["contact_method"],
        phone_e164=clean["phone"],
        time_window=clean["time_window"],
        callback_due=callback_due,
        consent_notice_version=notice_version,
        alias=clean["alias"],
        municipality=clean["municipality"],
        urgent=False,
        language=language,
    )
