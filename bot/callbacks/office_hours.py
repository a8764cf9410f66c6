"""Office hours of the staff who call parents back: when they are open and which day a request is handled.

The hours are data (bot/callbacks/data/office_hours.yml); Finnish public holidays come from the `holidays` package.
Every function takes `now` from its caller; the edge reads it from core.clock.now() (PERHEOPAS_NOW).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import yaml

OFFICE_HOURS_FILE = Path(__file__).parent / "data" / "office_hours.yml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS_FI = ("maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina", "sunnuntaina")
MAX_DAYS_AHEAD = 60


@dataclass(frozen=True)
class OfficeHours:
    """Weekly opening times, the same-day cut-off and extra closed dates."""

    zone: ZoneInfo
    weekly: dict[int, tuple[time, time]]
    same_day_before: time | None
    closed_dates: frozenset[date]


def _clock(text: str) -> time:
    return time.fromisoformat(str(text))


@lru_cache(maxsize=4)
def load_office_hours(path: Path = OFFICE_HOURS_FILE) -> OfficeHours:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    weekly = {}
    for name, span in (data.get("weekly") or {}).items():
        opens, closes = _clock(span[0]), _clock(span[1])
        if opens >= closes:
            raise ValueError(f"{path}: {name} opens at {opens} but closes at {closes}")
        weekly[WEEKDAYS.index(name)] = (opens, closes)
    cutoff = data.get("same_day_before")
    return OfficeHours(
        zone=ZoneInfo(data.get("timezone", "Europe/Helsinki")),
        weekly=weekly,
        same_day_before=_clock(cutoff) if cutoff else None,
        closed_dates=frozenset(date.fromisoformat(str(d)) for d in data.get("closed_dates") or []),
    )


@lru_cache(maxsize=16)
def _finnish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FI", years=year)


def is_office_day(day: date, hours: OfficeHours | None = None) -> bool:
    hours = hours or load_office_hours()
    return day.weekday() in hours.weekly and day not in hours.closed_dates and day not in _finnish_holidays(day.year)


def is_office_open(now: datetime, hours: OfficeHours | None = None) -> bool:
    """True when staff are at work at `now` (an aware datetime)."""
    hours = hours or load_office_hours()
    local = now.astimezone(hours.zone)
    if not is_office_day(local.date(), hours):
        return False
    opens, closes = hours.weekly[local.weekday()]
    return opens <= local.time() < closes


def next_callback_day(now: datetime, hours: OfficeHours | None = None) -> date:
    """The office day on which a request made at `now` is handled: today if it came early enough, else the next."""
    hours = hours or load_office_hours()
    local = now.astimezone(hours.zone)
    today = local.date()
    if is_office_day(today, hours) and hours.same_day_before is not None:
        opens, closes = hours.weekly[today.weekday()]
        if local.time() < min(hours.same_day_before, closes):
            return today
    for offset in range(1, MAX_DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        if is_office_day(day, hours):
            return day
    raise ValueError(f"no office day within {MAX_DAYS_AHEAD} days of {today}; check {OFFICE_HOURS_FILE.name}")


PROMISED_WORKING_DAYS = 3  # the service's promise: a callback within 1–3 working days (DESIGN.md, S9)


def callback_deadline(now: datetime, hours: OfficeHours | None = None,
                      working_days: int = PROMISED_WORKING_DAYS) -> date:
    """The last day of the promise "within 1–3 working days" for a request made at `now`: the third office day
    after the day it was made. Unlike the first day the queue reaches it, this day is certain to be kept."""
    hours = hours or load_office_hours()
    day = now.astimezone(hours.zone).date()
    counted = 0
    for _ in range(MAX_DAYS_AHEAD):
        day += timedelta(days=1)
        if is_office_day(day, hours):
            counted += 1
            if counted == working_days:
                return day
    raise ValueError(f"no {working_days} office days within {MAX_DAYS_AHEAD} days; check {OFFICE_HOURS_FILE.name}")


def format_day_fi(day: date) -> str:
    """'maanantaina 29.12.': the form that follows 'soitamme sinulle'."""
    return f"{WEEKDAYS_FI[day.weekday()]} {day.day}.{day.month}."


def next_office_opening(now: datetime, hours: OfficeHours | None = None) -> datetime:
    """When staff are next at work after `now` (now itself if they are): for "taas paikalla maanantaina klo 8"."""
    hours = hours or load_office_hours()
    local = now.astimezone(hours.zone)
    if is_office_open(local, hours):
        return local
    for offset in range(0, MAX_DAYS_AHEAD + 1):
        day = local.date() + timedelta(days=offset)
        if not is_office_day(day, hours):
            continue
        opening = datetime.combine(day, hours.weekly[day.weekday()][0], tzinfo=hours.zone)
        if opening > local:
            return opening
    raise ValueError(f"no office day within {MAX_DAYS_AHEAD} days of {local.date()}; check {OFFICE_HOURS_FILE.name}")
