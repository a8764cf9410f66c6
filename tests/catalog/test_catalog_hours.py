"""Opening hours: weekly, exceptional, holidays (incl. Christmas Eve and Midsummer Eve), over midnight."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from catalog.hours import (
    EXCEPTIONAL,
    HoursEntry,
    OpeningRange,
    is_open,
    next_opening,
    notices,
    open_until,
    weekly_text,
)
from core.clock import HELSINKI

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(text: str) -> datetime:
    """Helsinki local time from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=HELSINKI)


def rng(day: int, start: str, end: str, day_to: int | None = None) -> OpeningRange:
    return OpeningRange(time.fromisoformat(start), time.fromisoformat(end), day, day_to)


def weekdays(start: str, end: str, days: range = range(MON, SAT)) -> HoursEntry:
    return HoursEntry(ranges=tuple(rng(d, start, end) for d in days))


OFFICE = [weekdays("09:00", "16:00")]
TUIRA = [HoursEntry(ranges=(*(rng(d, "09:00", "12:00") for d in range(MON, SAT)), rng(WED, "17:00", "19:00")))]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-23 08:59", False),  # Monday before opening
        ("2026-11-23 09:00", True),
        ("2026-11-23 15:59", True),
        ("2026-11-23 16:00", False),  # the end is exclusive
        ("2026-11-28 10:00", False),  # Saturday
        ("2026-12-24 10:00", False),  # Thursday, Christmas Eve
        ("2026-12-25 10:00", False),  # Friday, Christmas Day
        ("2026-06-19 10:00", False),  # Friday, Midsummer Eve
        ("2026-06-22 10:00", True),  # the Monday after Midsummer
        ("2027-01-06 10:00", False),  # Wednesday, Epiphany
        ("2027-03-26 10:00", False),  # Good Friday
        ("2027-05-06 10:00", False),  # Ascension Day
        ("2027-12-06 10:00", False),  # Monday, Independence Day
    ],
)
def test_weekly_hours_and_finnish_public_holidays(moment: str, expected: bool) -> None:
    assert is_open(OFFICE, at(moment)) is expected


def test_next_opening_skips_christmas() -> None:
    assert next_opening(OFFICE, at("2026-12-23 17:00")) == at("2026-12-28 09:00")


def test_next_opening_skips_midsummer() -> None:
    assert next_opening(OFFICE, at("2026-06-18 16:30")) == at("2026-06-22 09:00")


def test_next_opening_is_now_when_open() -> None:
    assert next_opening(OFFICE, at("2026-11-23 10:00")) == at("2026-11-23 10:00")


def test_always_open_ignores_holidays() -> None:
    hours = [HoursEntry(always_open=True)]
    for moment in ("2026-12-24 03:00", "2026-06-19 23:59", "2027-01-01 00:00"):
        assert is_open(hours, at(moment))
    assert open_until(hours, at("2026-12-24 03:00")) is None
    assert weekly_text(hours, date(2026, 12, 24)) == "avoinna aina"


def test_exceptional_closure_spans_several_days() -> None:
    hours = [
        *OFFICE,
        HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 21), valid_to=date(2027, 1, 6), closed=True),
    ]
    assert not is_open(hours, at("2026-12-21 10:00"))
    assert not is_open(hours, at("2026-12-30 10:00"))
    assert next_opening(hours, at("2026-12-18 17:00")) == at("2027-01-07 09:00")


def test_exceptional_hours_can_open_on_a_holiday() -> None:
    hours = [
        *OFFICE,
        HoursEntry(kind=EXCEPTIONAL, valid_from=date(2027, 1, 6), ranges=(OpeningRange(time(10), time(14)),)),
    ]
    assert not is_open(hours, at("2027-01-06 09:30"))
    assert is_open(hours, at("2027-01-06 10:00"))
    assert not is_open(hours, at("2027-01-06 14:00"))
    assert next_opening(hours, at("2027-01-06 08:00")) == at("2027-01-06 10:00")


def test_exceptional_hours_replace_the_day_and_open_a_saturday() -> None:
    hours = [
        *OFFICE,
        HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 23), ranges=(OpeningRange(time(10), time(12)),)),
        HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 11, 28), ranges=(OpeningRange(time(12), time(15)),)),
    ]
    assert not is_open(hours, at("2026-12-23 09:30"))
    assert is_open(hours, at("2026-12-23 11:00"))
    assert not is_open(hours, at("2026-12-23 13:00"))
    assert is_open(hours, at("2026-11-28 12:30"))


def test_over_midnight_range() -> None:
    hours = [HoursEntry(ranges=(rng(FRI, "22:00", "04:00"),))]
    assert not is_open(hours, at("2026-11-27 21:59"))
    assert is_open(hours, at("2026-11-27 22:00"))
    assert is_open(hours, at("2026-11-28 02:00"))
    assert not is_open(hours, at("2026-11-28 04:00"))
    assert open_until(hours, at("2026-11-28 02:00")) == at("2026-11-28 04:00")
    assert weekly_text(hours, date(2026, 11, 27)) == "pe 22.00–4.00"


def test_over_midnight_interval_started_before_a_holiday_continues() -> None:
    hours = [HoursEntry(ranges=(rng(THU, "22:00", "02:00"), rng(FRI, "22:00", "02:00")))]
    assert is_open(hours, at("2026-06-19 01:00"))  # began Thursday evening, before Midsummer Eve
    assert not is_open(hours, at("2026-06-19 23:00"))  # would begin on Midsummer Eve


def test_ptv_over_midnight_span_across_a_weekend() -> None:
    hours = [HoursEntry(ranges=(rng(FRI, "16:00", "08:00", day_to=MON),))]
    assert is_open(hours, at("2026-11-29 12:00"))  # Sunday
    assert is_open(hours, at("2026-11-30 07:59"))
    assert not is_open(hours, at("2026-11-30 08:00"))
    assert next_opening(hours, at("2026-11-30 08:00")) == at("2026-12-04 16:00")
    assert weekly_text(hours, date(2026, 11, 30)) == "pe 16.00 – ma 8.00"


def test_period_hours_override_open_ended_ones() -> None:
    summer = HoursEntry(
        ranges=tuple(rng(d, "10:00", "14:00") for d in range(MON, SAT)),
        valid_from=date(2027, 6, 1),
        valid_to=date(2027, 8, 31),
    )
    hours = [*OFFICE, summer]
    assert not is_open(hours, at("2027-07-01 09:30"))
    assert is_open(hours, at("2027-07-01 10:30"))
    assert is_open(hours, at("2027-09-01 09:30"))
    assert weekly_text(hours, date(2027, 7, 1)) == "ma–pe 10.00–14.00"
    assert weekly_text(hours, date(2027, 9, 1)) == "ma–pe 9.00–16.00"


def test_closed_period_within_weekly_hours() -> None:
    hours = [*OFFICE, HoursEntry(valid_from=date(2027, 6, 21), valid_to=date(2027, 8, 8), closed=True)]
    assert not is_open(hours, at("2027-07-05 10:00"))
    assert next_opening(hours, at("2027-07-05 10:00")) == at("2027-08-09 09:00")
    assert "suljettu 21.6.–8.8." in notices(hours, date(2027, 6, 10))


def test_next_opening_crosses_daylight_saving_time() -> None:
    hours = [HoursEntry(ranges=(rng(MON, "09:00", "10:00"),))]
    opening = next_opening(hours, at("2027-03-27 12:00"))  # summer time starts on Sunday 28.3.
    assert opening == at("2027-04-05 09:00")  # Monday 29.3. is Easter Monday
    assert opening is not None and opening.utcoffset().total_seconds() == 3 * 3600


def test_no_hours_never_open() -> None:
    assert not is_open([], at("2026-11-23 10:00"))
    assert next_opening([], at("2026-11-23 10:00")) is None
    assert weekly_text([], date(2026, 11, 23)) is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        is_open(OFFICE, datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError):
        next_opening(OFFICE, datetime(2026, 11, 23, 10, 0))


def test_aware_datetimes_in_utc_are_converted() -> None:
    utc_moment = datetime.fromisoformat("2026-11-23T07:30:00+00:00")  # 9.30 in Helsinki
    assert is_open(OFFICE, utc_moment)


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (TUIRA, "ma–pe 9.00–12.00, ke 17.00–19.00"),
        ([HoursEntry(ranges=(rng(MON, "09:00", "11:30"), rng(WED, "09:00", "11:30")))], "ma ja ke 9.00–11.30"),
        ([HoursEntry(ranges=tuple(rng(d, "09:00", "12:00") for d in (MON, WED, FRI)))], "ma, ke ja pe 9.00–12.00"),
        ([HoursEntry(ranges=(rng(SAT, "10:00", "18:00"), rng(SUN, "10:00", "18:00")))], "la–su 10.00–18.00"),
        (
            [
                HoursEntry(
                    ranges=(
                        *(rng(d, "08:00", "11:00") for d in range(5)),
                        *(rng(d, "12:00", "15:30") for d in range(5)),
                    )
                )
            ],
            "ma–pe 8.00–11.00 ja 12.00–15.30",
        ),
        ([HoursEntry(ranges=(rng(TUE, "21:00", "00:00"),))], "ti 21.00–24.00"),
        ([HoursEntry(ranges=(rng(MON, "08:00", "15:00"),), reservation=True)], "ajanvarauksella ma 8.00–15.00"),
    ],
)
def test_finnish_weekly_text(hours: list[HoursEntry], text: str) -> None:
    assert weekly_text(hours, date(2026, 11, 23)) == text


def test_notices_mention_closures_special_hours_and_holidays() -> None:
    hours = [
        *TUIRA,
        HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 21), valid_to=date(2027, 1, 6), closed=True),
        HoursEntry(kind=EXCEPTIONAL, valid_from=date(2026, 12, 4), ranges=(OpeningRange(time(9), time(11)),)),
    ]
    notes = notices(hours, date(2026, 12, 1), horizon_days=21)
    assert "poikkeusaukiolo 4.12.: 9.00–11.00" in notes
    assert "suljettu 21.12.–6.1.2027" in notes
    later = notices(OFFICE, date(2026, 12, 20))
    assert "suljettu 24.12. (jouluaatto)" in later
    assert "suljettu 25.12. (joulupäivä)" in later
    assert not any("26.12." in note for note in later)  # a Saturday: closed anyway
