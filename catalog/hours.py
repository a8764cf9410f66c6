"""Opening-hours logic as pure functions: open now, next opening, display text in Finnish, Swedish or English.

The clock is always a parameter. Rules, in order of precedence for a calendar day:
1. an exceptional (dated) entry covering the day decides alone: closed, always open or its ranges;
2. on a Finnish public holiday (the `holidays` package, which includes Midsummer Eve and Christmas Eve)
   the place is closed unless it is always open;
3. weekly entries valid on the day; entries with an end date (e.g. summer hours) override open-ended ones.
A range whose end is not after its start runs over midnight; a range with its own end weekday
(PTV "Special" hours) may span several days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as holidays_lib

from catalog.hours_words import date_span, holiday_label, words
from catalog.hours_words import format_date as format_date  # re-exported: callers format dates and times here
from catalog.hours_words import format_time as format_time
from core.clock import HELSINKI

WEEKLY = "weekly"
EXCEPTIONAL = "exceptional"

DAY_ABBR_FI = words("fi").days
ALWAYS_OPEN_FI = words("fi").always_open
SEARCH_HORIZON_DAYS = 370


@dataclass(frozen=True)
class OpeningRange:
    """One opening span. `day_from`/`day_to` are weekdays 0=Monday; None on exceptional entries."""

    start: time
    end: time
    day_from: int | None = None
    day_to: int | None = None


@dataclass(frozen=True)
class HoursEntry:
    """One PTV serviceHours entry, normalised (`kind` is WEEKLY or EXCEPTIONAL)."""

    kind: str = WEEKLY
    ranges: tuple[OpeningRange, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    closed: bool = False
    always_open: bool = False
    reservation: bool = False
    info: str | None = None

    def covers(self, day: date) -> bool:
        """Whether the entry is valid on `day` (an exceptional entry without an end covers one day)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        end = self.valid_to
        if end is None and self.kind == EXCEPTIONAL:
            end = self.valid_from
        return end is None or day <= end


@lru_cache(maxsize=64)
def _finnish_holidays(year: int, language: str = "fi") -> dict[date, str]:
    return dict(holidays_lib.country_holidays("FI", years=year, language=words(language).holidays_language).items())


def holiday_name(day: date, language: str = "fi") -> str | None:
    """The name of the Finnish public holiday on `day` in `language` (fi, sv, en), or None."""
    return _finnish_holidays(day.year, language).get(day)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=HELSINKI)


def _span(day: date, rng: OpeningRange) -> tuple[datetime, datetime]:
    start = _at(day, rng.start)
    if rng.day_to is not None and rng.day_from is not None and rng.day_to != rng.day_from:
        end_day = day + timedelta(days=(rng.day_to - rng.day_from) % 7)
        return start, _at(end_day, rng.end)
    if rng.end > rng.start:
        return start, _at(day, rng.end)
    return start, _at(day + timedelta(days=1), rng.end)


def _full_day(day: date) -> tuple[datetime, datetime]:
    return _at(day, time(0)), _at(day + timedelta(days=1), time(0))


def _active_weekly(hours: Sequence[HoursEntry], day: date) -> list[HoursEntry]:
    weekly = [h for h in hours if h.kind != EXCEPTIONAL and h.covers(day)]
    limited = [h for h in weekly if h.valid_to is not None]
    return limited or weekly


def day_intervals(hours: Sequence[HoursEntry], day: date) -> list[tuple[datetime, datetime]]:
    """Opening intervals that start on `day` (they may end on a later day)."""
    exceptional = [h for h in hours if h.kind == EXCEPTIONAL and h.covers(day)]
    if exceptional:
        if any(h.closed for h in exceptional):
            return []
        out: list[tuple[datetime, datetime]] = []
        for entry in exceptional:
            if entry.always_open:
                out.append(_full_day(day))
                continue
            single_day = entry.valid_to is None or entry.valid_to == entry.valid_from
            for rng in entry.ranges:
                if single_day or rng.day_from is None or rng.day_from == day.weekday():
                    # Exceptional ranges are clock times on that date; their weekday fields are PTV noise.
                    out.append(_span(day, OpeningRange(rng.start, rng.end)))
        return sorted(out)
    active = _active_weekly(hours, day)
    always = any(h.always_open and not h.closed for h in active)
    if always:
        return [_full_day(day)]
    if holiday_name(day) is not None:
        return []
    out = []
    for entry in active:
        if entry.closed:
            continue
        for rng in entry.ranges:
            if rng.day_from == day.weekday():
                out.append(_span(day, rng))
    return sorted(out)


def _spans_days(hours: Sequence[HoursEntry]) -> int:
    """How many days back an interval starting earlier can still reach (1 for plain over-midnight)."""
    longest = 1
    for entry in hours:
        for rng in entry.ranges:
            if rng.day_to is not None and rng.day_from is not None:
                longest = max(longest, (rng.day_to - rng.day_from) % 7 + 1)
    return longest


def _containing(hours: Sequence[HoursEntry], at: datetime) -> tuple[datetime, datetime] | None:
    at = at.astimezone(HELSINKI)
    today = at.date()
    for back in range(_spans_days(hours), -1, -1):
        for start, end in day_intervals(hours, today - timedelta(days=back)):
            if start <= at < end:
                return start, end
    return None


def is_open(hours: Sequence[HoursEntry], at: datetime) -> bool:
    """Whether the place is open at the aware datetime `at`."""
    if at.tzinfo is None:
        raise ValueError("is_open needs an aware datetime")
    return _containing(hours, at) is not None


def open_until(hours: Sequence[HoursEntry], at: datetime) -> datetime | None:
    """When the current opening ends (following back-to-back intervals), or None if closed at `at`."""
    current = _containing(hours, at)
    if current is None:
        return None
    end = current[1]
    for _ in range(SEARCH_HORIZON_DAYS):
        nxt = _containing(hours, end)
        if nxt is None or nxt[1] <= end:
            return end
        end = nxt[1]
    return None  # open for as far as we look: effectively always open


def next_opening(hours: Sequence[HoursEntry], after: datetime) -> datetime | None:
    """The first moment at or after `after` when the place is open; None if not within a year."""
    if after.tzinfo is None:
        raise ValueError("next_opening needs an aware datetime")
    after = after.astimezone(HELSINKI)
    if _containing(hours, after) is not None:
        return after
    if not any(h.ranges or h.always_open for h in hours):
        return None
    day = after.date()
    for offset in range(SEARCH_HORIZON_DAYS):
        for start, _end in day_intervals(hours, day + timedelta(days=offset)):
            if start >= after:
                return start
    return None


# --- display in Finnish, Swedish and English ----------------------------------------------------------

def _range_text(rng: OpeningRange, language: str = "fi") -> str:
    if rng.day_to is not None and rng.day_from is not None and rng.day_to != rng.day_from:
        day = words(language).days[rng.day_to]
        return f"{format_time(rng.start, language)} – {day} {format_time(rng.end, language)}"
    end = f"24{words(language).time_separator}00" if rng.end == time(0) else format_time(rng.end, language)
    return f"{format_time(rng.start, language)}–{end}"


def _day_runs(days: Iterable[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _run_text(run: Sequence[int], language: str) -> str:
    days = words(language).days
    if len(run) == 1:
        return days[run[0]]
    return f"{days[run[0]]}–{days[run[-1]]}"


def _runs_text(runs: Sequence[Sequence[int]], language: str) -> str:
    texts = [_run_text(run, language) for run in runs]
    if len(texts) == 1:
        return texts[0]
    return f"{', '.join(texts[:-1])} {words(language).and_word} {texts[-1]}"


def weekly_text(hours: Sequence[HoursEntry], on: date, language: str = "fi") -> str | None:
    """Weekly hours valid on `on` in `language`: "ma–pe 9.00–12.00, ke 17.00–19.00" or "avoinna aina" (fi),
    "mån–fre 9.00–12.00" or "alltid öppet" (sv), "Mon–Fri 9:00–12:00" or "open 24/7" (en)."""
    vocabulary = words(language)
    active = _active_weekly(hours, on)
    if not active:
        # Only period-bound hours that are not current: show the open-ended ones if any.
        active = [h for h in hours if h.kind != EXCEPTIONAL and h.valid_to is None]
    active = [h for h in active if not h.closed]
    if any(h.always_open for h in active):
        return vocabulary.always_open
    by_range: dict[OpeningRange, set[int]] = {}
    for entry in active:
        for rng in entry.ranges:
            if rng.day_from is None:
                continue
            spanning = rng.day_to is not None and rng.day_to != rng.day_from
            key = rng if spanning else OpeningRange(rng.start, rng.end)
            by_range.setdefault(key, set()).add(rng.day_from)
    if not by_range:
        return None
    # Runs of consecutive days per range ("ma–pe 9.00–12.00, ke 17.00–19.00"), then runs with the same
    # ranges merged ("ma ja ke 9.00–11.30").
    per_run: dict[tuple[int, ...], list[OpeningRange]] = {}
    for rng, days in by_range.items():
        for run in _day_runs(days):
            per_run.setdefault(tuple(run), []).append(rng)
    merged: dict[tuple[OpeningRange, ...], list[tuple[int, ...]]] = {}
    for day_run, run_ranges in per_run.items():
        merged.setdefault(tuple(sorted(run_ranges, key=lambda r: (r.start, r.end))), []).append(day_run)
    parts = []
    for same_ranges, runs in sorted(merged.items(), key=lambda item: (min(item[1])[0], item[0][0].start)):
        runs.sort()
        ranges_text = f" {vocabulary.and_word} ".join(_range_text(r, language) for r in same_ranges)
        parts.append(f"{_runs_text(runs, language)} {ranges_text}")
    text = ", ".join(parts)
    if all(h.reservation for h in active):
        text = vocabulary.by_reservation.format(text=text)
    return text


def notices(hours: Sequence[HoursEntry], on: date, horizon_days: int = 21, language: str = "fi") -> list[str]:
    """Notes in `language` on exceptions between `on` and `on + horizon_days`: closures, holidays, special hours.

    Finnish "suljettu 24.12. (jouluaatto)", Swedish "stängt 24.12. (julafton)", English "closed 24 Dec (Christmas Eve)".
    """
    vocabulary = words(language)
    end = on + timedelta(days=horizon_days)
    notes: list[str] = []
    covered: set[date] = set()
    for entry in sorted(hours, key=lambda h: h.valid_from or date.min):
        if entry.valid_from is None:
            continue
        last = entry.valid_to or (entry.valid_from if entry.kind == EXCEPTIONAL else None)
        if entry.kind == EXCEPTIONAL:
            if last is None or last < on or entry.valid_from > end:
                continue
            span = date_span(entry.valid_from, last, on, language)
            day = entry.valid_from
            while day <= last:
                covered.add(day)
                day += timedelta(days=1)
            if entry.closed:
                notes.append(vocabulary.closed.format(span=span))
            elif entry.always_open:
                notes.append(vocabulary.open_all_day.format(span=span))
            elif entry.ranges:
                joiner = f" {vocabulary.and_word} "
                times = joiner.join(_range_text(OpeningRange(r.start, r.end), language) for r in entry.ranges)
                notes.append(vocabulary.special_hours.format(span=span, times=times))
        elif entry.closed and last is not None and last >= on and entry.valid_from <= end:
            # A closed period of weekly hours always names both ends (Finnish output kept as it was).
            dash = "–" if vocabulary.months is None else " – "
            span = f"{format_date(entry.valid_from, on, language)}{dash}{format_date(last, on, language)}"
            notes.append(vocabulary.closed.format(span=span))
    always = any(h.always_open for h in _active_weekly(hours, on))
    if not always:
        day = on
        while day <= end:
            name = holiday_name(day, language)
            if name and day not in covered:
                weekday_open = any(
                    rng.day_from == day.weekday()
                    for h in _active_weekly(hours, day)
                    if not h.closed
                    for rng in h.ranges
                )
                if weekday_open:
                    label = holiday_label(name, language)
                    notes.append(vocabulary.holiday_closed.format(date=format_date(day, on, language), name=label))
            day += timedelta(days=1)
    return notes
