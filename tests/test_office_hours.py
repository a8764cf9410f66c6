"""Office hours of the callback staff: open or not, the day a request is handled, and when staff are back."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.callbacks.office_hours import (
    callback_deadline,
    format_day_fi,
    is_office_open,
    next_callback_day,
    next_office_opening,
)
from core.clock import HELSINKI


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI)


@pytest.mark.parametrize("moment, open_now, callback_day", [
    ("2025-12-22T09:00", True, date(2025, 12, 22)),    # Monday morning: same day
    ("2025-12-22T13:00", True, date(2025, 12, 23)),    # after the noon cut-off: next office day
    ("2025-12-22T07:59", False, date(2025, 12, 22)),   # before opening, still the same day
    ("2025-12-19T23:00", False, date(2025, 12, 22)),   # Friday night → Monday
    ("2025-12-23T15:00", True, date(2025, 12, 29)),    # Christmas Eve, Christmas and Boxing Day are closed
    ("2025-12-24T10:00", False, date(2025, 12, 29)),   # Christmas Eve itself
    ("2025-06-19T17:00", False, date(2025, 6, 23)),    # Midsummer Eve Friday closed
    ("2025-12-05T16:00", False, date(2025, 12, 8)),    # closing time is not open
    ("2026-01-05T11:00", True, date(2026, 1, 5)),      # Monday before Epiphany
    ("2026-01-05T14:00", True, date(2026, 1, 7)),      # Epiphany (Tuesday 6.1.) is closed
])
def test_office_days(moment: str, open_now: bool, callback_day: date) -> None:
    assert is_office_open(at(moment)) is open_now
    assert next_callback_day(at(moment)) == callback_day


@pytest.mark.parametrize("moment, opening", [
    ("2025-12-19T23:00", "2025-12-22T08:00"),
    ("2025-12-22T07:00", "2025-12-22T08:00"),
    ("2025-12-22T13:00", "2025-12-22T13:00"),
    ("2025-12-24T10:00", "2025-12-29T08:00"),
])
def test_next_office_opening(moment: str, opening: str) -> None:
    assert next_office_opening(at(moment)) == at(opening)


def test_utc_input_is_read_in_helsinki_time() -> None:
    # 06:30 UTC is 08:30 in Helsinki in winter.
    assert is_office_open(datetime.fromisoformat("2025-12-22T06:30:00+00:00"))


@pytest.mark.parametrize("day, text", [
    (date(2025, 12, 29), "maanantaina 29.12."),
    (date(2026, 1, 2), "perjantaina 2.1."),
])
def test_format_day_fi(day: date, text: str) -> None:
    assert format_day_fi(day) == text


@pytest.mark.parametrize("moment, last_day", [
    ("2025-12-22T09:00", date(2025, 12, 30)),   # Monday: Tue 23., then Christmas (24.–26.), Mon 29., Tue 30.
    ("2025-12-19T23:00", date(2025, 12, 29)),   # Friday night: Mon 22., Tue 23., Mon 29.
    ("2026-11-24T13:00", date(2026, 11, 27)),   # an ordinary Tuesday: Wed, Thu, Fri
    ("2026-11-24T09:00", date(2026, 11, 27)),   # the same before the cut-off: never earlier than promised
    ("2027-06-25T10:00", date(2027, 6, 30)),    # Midsummer Eve: Mon 28., Tue 29., Wed 30.
    ("2026-01-05T14:00", date(2026, 1, 9)),     # Epiphany skipped: Wed 7., Thu 8., Fri 9.
])
def test_callback_deadline_is_the_third_working_day(moment: str, last_day: date) -> None:
    """S9: "within 1–3 working days" ends on this day; it is never before the first day the queue reaches."""
    deadline = callback_deadline(at(moment))
    assert deadline == last_day
    assert deadline >= next_callback_day(at(moment))
