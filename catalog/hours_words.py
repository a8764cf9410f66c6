"""The words and number formats of opening-hours texts in Finnish, Swedish and English.

catalog/hours.py builds the texts ("ma–pe 9.00–12.00", "mån–fre 9.00–12.00", "Mon–Fri 9:00–12:00") from these.
Swedish follows Finland-Swedish usage: three- or four-letter weekday abbreviations as Språkrådet and
Institutet för de inhemska språken give them (mån, tis, ons, tors, fre, lör, sön) and clock times with a
full stop (9.00), as in Finnish. English uses a colon (9:00) and day-month dates (24 Dec).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from core.language import LANGUAGES


@dataclass(frozen=True)
class HoursWords:
    """One language's vocabulary. Templates take `{span}` (dates), `{times}`, `{date}` and `{name}`."""

    days: tuple[str, ...]
    and_word: str
    always_open: str
    by_reservation: str
    closed: str
    open_all_day: str
    special_hours: str
    holiday_closed: str
    holidays_language: str
    time_separator: str
    months: tuple[str, ...] | None = None  # None: numeric dates (24.12.)


WORDS: dict[str, HoursWords] = {
    "fi": HoursWords(
        days=("ma", "ti", "ke", "to", "pe", "la", "su"),
        and_word="ja",
        always_open="avoinna aina",
        by_reservation="ajanvarauksella {text}",
        closed="suljettu {span}",
        open_all_day="{span} avoinna koko päivän",
        special_hours="poikkeusaukiolo {span}: {times}",
        holiday_closed="suljettu {date} ({name})",
        holidays_language="fi",
        time_separator=".",
    ),
    "sv": HoursWords(
        days=("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
        and_word="och",
        always_open="alltid öppet",
        by_reservation="med tidsbokning {text}",
        closed="stängt {span}",
        open_all_day="öppet dygnet runt {span}",
        special_hours="avvikande öppettider {span}: {times}",
        holiday_closed="stängt {date} ({name})",
        holidays_language="sv_FI",
        time_separator=".",
    ),
    "en": HoursWords(
        days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        and_word="and",
        always_open="open 24/7",
        by_reservation="by appointment {text}",
        closed="closed {span}",
        open_all_day="open around the clock {span}",
        special_hours="special opening hours {span}: {times}",
        holiday_closed="closed {date} ({name})",
        holidays_language="en_US",
        time_separator=":",
        months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    ),
}
assert tuple(WORDS) == LANGUAGES, "one vocabulary per language the bot speaks"


def words(language: str) -> HoursWords:
    """The vocabulary of `language` ("fi", "sv" or "en"); ValueError for any other."""
    try:
        return WORDS[language]
    except KeyError:
        raise ValueError(f"no opening-hours texts in {language!r}; known: {', '.join(LANGUAGES)}") from None


def format_time(moment: time, language: str = "fi") -> str:
    """A clock time: 9.00 and 17.30 in Finnish and Swedish, 9:00 and 17:30 in English."""
    return f"{moment.hour}{words(language).time_separator}{moment.minute:02d}"


def format_date(day: date, reference: date | None = None, language: str = "fi") -> str:
    """A short date: 24.12. (Finnish, Swedish) or 24 Dec (English); the year only when it differs from `reference`."""
    months = words(language).months
    same_year = reference is not None and day.year == reference.year
    if months is None:
        return f"{day.day}.{day.month}." if same_year else f"{day.day}.{day.month}.{day.year}"
    text = f"{day.day} {months[day.month - 1]}"
    return text if same_year else f"{text} {day.year}"


def date_span(first: date, last: date, reference: date, language: str = "fi") -> str:
    """Dates from `first` to `last`: 21.6.–8.8. (Finnish, Swedish), 21 Jun – 8 Aug (English)."""
    start = format_date(first, reference, language)
    if last == first:
        return start
    dash = "–" if words(language).months is None else " – "
    return f"{start}{dash}{format_date(last, reference, language)}"


# The holidays package's sv_FI names where Finland-Swedish says the day otherwise (the Almanac of the University of
# Helsinki and the calendars in Finland write "trettondagen" and "pingstdagen").
SWEDISH_HOLIDAY_NAMES = {"Trettondag": "trettondagen", "Pingst": "pingstdagen"}


def holiday_label(name: str, language: str = "fi") -> str:
    """A holiday's name inside a note: lower case in Finnish and Swedish (jouluaatto, julafton), as is in English."""
    if language == "fi":
        return name.lower()
    if language == "sv":
        name = SWEDISH_HOLIDAY_NAMES.get(name, name)
        if not name.startswith("Kristi "):  # Kristi himmelsfärdsdag keeps its capital
            return name[:1].lower() + name[1:]
    return name
