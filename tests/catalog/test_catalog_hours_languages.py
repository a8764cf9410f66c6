"""Opening hours and exception notices in Finnish, Swedish and English (issue 16); Finnish as before."""

from __future__ import annotations

from datetime import date, time

import pytest

from catalog.hours import (
    ALWAYS_OPEN_FI,
    EXCEPTIONAL,
    HoursEntry,
    OpeningRange,
    format_date,
    format_time,
    holiday_name,
    notices,
    weekly_text,
)
from catalog.hours_words import WORDS, date_span
from core.language import LANGUAGES

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
MONDAY = date(2026, 11, 23)


def rng(day: int, start: str, end: str, day_to: int | None = None) -> OpeningRange:
    return OpeningRange(time.fromisoformat(start), time.fromisoformat(end), day, day_to)


TUIRA = [HoursEntry(ranges=(*(rng(d, "09:00", "12:00") for d in range(MON, SAT)), rng(WED, "17:00", "19:00")))]
WEEKLY_CASES = [
    (TUIRA, "ma–pe 9.00–12.00, ke 17.00–19.00", "mån–fre 9.00–12.00, ons 17.00–19.00",
     "Mon–Fri 9:00–12:00, Wed 17:00–19:00"),
    ([HoursEntry(ranges=tuple(rng(d, "09:00", "12:00") for d in (MON, WED, FRI)))],
     "ma, ke ja pe 9.00–12.00", "mån, ons och fre 9.00–12.00", "Mon, Wed and Fri 9:00–12:00"),
    ([HoursEntry(ranges=(rng(SAT, "10:00", "18:00"), rng(SUN, "10:00", "18:00")))],
     "la–su 10.00–18.00", "lör–sön 10.00–18.00", "Sat–Sun 10:00–18:00"),
    ([HoursEntry(ranges=(*(rng(d, "08:00", "11:00") for d in range(5)),
                         *(rng(d, "12:00", "15:30") for d in range(5))))],
     "ma–pe 8.00–11.00 ja 12.00–15.30", "mån–fre 8.00–11.00 och 12.00–15.30", "Mon–Fri 8:00–11:00 and 12:00–15:30"),
    ([HoursEntry(ranges=(rng(TUE, "21:00", "00:00"), rng(THU, "09:00", "10:00")))],
     "ti 21.00–24.00, to 9.00–10.00", "tis 21.00–24.00, tors 9.00–10.00", "Tue 21:00–24:00, Thu 9:00–10:00"),
    ([HoursEntry(ranges=(rng(FRI, "22:00", "04:00"),))], "pe 22.00–4.00", "fre 22.00–4.00", "Fri 22:00–4:00"),
    ([HoursEntry(ranges=(rng(FRI, "16:00", "08:00", MON),))],
     "pe 16.00 – ma 8.00", "fre 16.00 – mån 8.00", "Fri 16:00 – Mon 8:00"),
    ([HoursEntry(ranges=(rng(MON, "08:00", "15:00"),), reservation=True)],
     "ajanvarauksella ma 8.00–15.00", "med tidsbokning mån 8.00–15.00", "by appointment Mon 8:00–15:00"),
    ([HoursEntry(always_open=True)], "avoinna aina", "alltid öppet", "open 24/7"),
    ([*TUIRA, HoursEntry(always_open=True)], "avoinna aina", "alltid öppet", "open 24/7"),
]


@pytest.mark.parametrize(("hours", "fi", "sv", "en"), WEEKLY_CASES)
def test_weekly_text_in_three_languages(hours: list[HoursEntry], fi: str, sv: str, en: str) -> None:
    assert weekly_text(hours, MONDAY) == fi  # the default stays Finnish
    assert [weekly_text(hours, MONDAY, language) for language in LANGUAGES] == [fi, sv, en]


def test_every_weekday_has_its_abbreviation() -> None:
    days = [HoursEntry(ranges=(rng(d, "09:00", "10:00"),)) for d in range(7)]
    texts = {language: [weekly_text([day], MONDAY, language) for day in days] for language in LANGUAGES}
    assert texts["fi"] == [f"{d} 9.00–10.00" for d in ("ma", "ti", "ke", "to", "pe", "la", "su")]
    assert texts["sv"] == [f"{d} 9.00–10.00" for d in ("mån", "tis", "ons", "tors", "fre", "lör", "sön")]
    assert texts["en"] == [f"{d} 9:00–10:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]


def test_no_hours_and_closed_weekly_hours_have_no_text_in_any_language() -> None:
    closed = [HoursEntry(ranges=(rng(MON, "09:00", "10:00"),), closed=True)]
    for language in LANGUAGES:
        assert weekly_text([], MONDAY, language) is None
        assert weekly_text(closed, MONDAY, language) is None


EXCEPTIONS = [
    *TUIRA,
    HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 21), valid_to=date(2027, 1, 6), closed=True),
    HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 4), ranges=(OpeningRange(time(9), time(11)),
                                                                       OpeningRange(time(13), time(15)))),
    HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 12), always_open=True),
    HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 18), closed=True),
]


def test_exception_notices_in_three_languages() -> None:
    notes = {language: notices(EXCEPTIONS, date(2026, 12, 1), 21, language=language) for language in LANGUAGES}
    assert notes["fi"] == [
        "poikkeusaukiolo 4.12.: 9.00–11.00 ja 13.00–15.00",
        "12.12. avoinna koko päivän",
        "suljettu 18.12.",
        "suljettu 21.12.–6.1.2027",
    ]
    assert notes["sv"] == [
        "avvikande öppettider 4.12.: 9.00–11.00 och 13.00–15.00",
        "öppet dygnet runt 12.12.",
        "stängt 18.12.",
        "stängt 21.12.–6.1.2027",
    ]
    assert notes["en"] == [
        "special opening hours 4 Dec: 9:00–11:00 and 13:00–15:00",
        "open around the clock 12 Dec",
        "closed 18 Dec",
        "closed 21 Dec – 6 Jan 2027",
    ]
    assert notices(EXCEPTIONS, date(2026, 12, 1), 21) == notes["fi"]


def test_holiday_notices_in_three_languages() -> None:
    notes = {language: notices(TUIRA, date(2026, 12, 20), language=language) for language in LANGUAGES}
    assert notes["fi"] == [
        "suljettu 24.12. (jouluaatto)",
        "suljettu 25.12. (joulupäivä)",
        "suljettu 1.1.2027 (uudenvuodenpäivä)",
        "suljettu 6.1.2027 (loppiainen)",
    ]
    assert notes["sv"] == [
        "stängt 24.12. (julafton)",
        "stängt 25.12. (juldagen)",
        "stängt 1.1.2027 (nyårsdagen)",
        "stängt 6.1.2027 (trettondagen)",
    ]
    assert notes["en"] == [
        "closed 24 Dec (Christmas Eve)",
        "closed 25 Dec (Christmas Day)",
        "closed 1 Jan 2027 (New Year's Day)",
        "closed 6 Jan 2027 (Epiphany)",
    ]


def test_closed_summer_and_midsummer_in_three_languages() -> None:
    summer = [*TUIRA, HoursEntry(valid_from=date(2027, 6, 28), valid_to=date(2027, 8, 8), closed=True)]
    assert notices(summer, date(2027, 6, 14)) == ["suljettu 28.6.–8.8.", "suljettu 25.6. (juhannusaatto)"]
    assert notices(summer, date(2027, 6, 14), language="sv") == ["stängt 28.6.–8.8.", "stängt 25.6. (midsommarafton)"]
    assert notices(summer, date(2027, 6, 14), language="en") == [
        "closed 28 Jun – 8 Aug",
        "closed 25 Jun (Midsummer Eve)",
    ]
    # Swedish writes holidays in lower case inside the note, but Kristi himmelsfärdsdag keeps its capital.
    assert notices(TUIRA, date(2027, 5, 1), language="sv") == ["stängt 6.5. (Kristi himmelsfärdsdag)"]


def test_always_open_places_get_no_holiday_notices() -> None:
    for language in LANGUAGES:
        assert notices([HoursEntry(always_open=True)], date(2026, 12, 20), language=language) == []


def test_dates_times_and_holiday_names_per_language() -> None:
    christmas, reference = date(2026, 12, 24), date(2026, 12, 1)
    assert [format_date(christmas, reference, language) for language in LANGUAGES] == ["24.12.", "24.12.", "24 Dec"]
    assert [format_date(christmas, None, language) for language in LANGUAGES] == [
        "24.12.2026", "24.12.2026", "24 Dec 2026"
    ]
    assert format_date(christmas, reference) == "24.12."
    assert [format_time(time(9, 5), language) for language in LANGUAGES] == ["9.05", "9.05", "9:05"]
    assert format_time(time(17, 30)) == "17.30"
    assert date_span(date(2027, 6, 21), date(2027, 8, 8), reference, "en") == "21 Jun 2027 – 8 Aug 2027"
    assert date_span(date(2027, 6, 21), date(2027, 8, 8), reference, "sv") == "21.6.2027–8.8.2027"
    assert [holiday_name(christmas, language) for language in LANGUAGES] == ["Jouluaatto", "Julafton", "Christmas Eve"]
    assert holiday_name(date(2026, 12, 23), "sv") is None
    assert ALWAYS_OPEN_FI == WORDS["fi"].always_open == "avoinna aina"


def test_swedish_holiday_names_as_said_in_finland() -> None:
    from catalog.hours_words import holiday_label

    assert [holiday_label(name, "sv") for name in ("Trettondag", "Pingst", "Julafton", "Kristi himmelsfärdsdag")] == [
        "trettondagen", "pingstdagen", "julafton", "Kristi himmelsfärdsdag"]
    assert holiday_label("Loppiainen") == "loppiainen" and holiday_label("Epiphany", "en") == "Epiphany"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        weekly_text(TUIRA, MONDAY, "de")
    with pytest.raises(ValueError):
        notices(TUIRA, MONDAY, language="")
