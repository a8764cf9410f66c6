"""The figures built from the counters: what the coordinators' dashboard, its CSV and `python -m bot stats` show.

Small numbers are suppressed where figures leave the server for people to read (the dashboard, the CSV and
`stats --suppress`): a count from 1 to 4 is shown as "< 5", and a rate or mean built on one is left out.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.stats import counters as c
from bot.stats.models import StatCount

SMALL = 5
SUPPRESSED = "< 5"

Cell = int | str


def suppress(value: int) -> Cell:
    """A count as it may be shown: 1–4 become "< 5" (0 tells nothing about anyone and stays)."""
    return SUPPRESSED if 0 < value < SMALL else value


def safe_rate(part: int, whole: int) -> float | None:
    """part / whole, unless either would let a small number be worked out (then None: not shown)."""
    if whole < SMALL or 0 < part < SMALL:
        return None
    return round(part / whole, 3)


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _nested() -> defaultdict[str, defaultdict[str, int]]:
    return defaultdict(lambda: defaultdict(int))


@dataclass
class Figures:
    """The counters of a period, summed the ways the dashboard shows them (raw counts; see `as_dict`)."""

    since: date | None
    until: date
    weeks: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    topics_by_week: dict[str, dict[str, int]] = field(default_factory=dict)
    hours: dict[str, dict[str, int]] = field(default_factory=dict)
    rates_by_week: dict[str, dict[str, int]] = field(default_factory=dict)
    feedback: dict[str, dict[str, int]] = field(default_factory=dict)
    callbacks_by_week: dict[str, dict[str, int]] = field(default_factory=dict)
    wait_buckets: dict[str, int] = field(default_factory=dict)
    municipalities: dict[str, int] = field(default_factory=dict)
    safety_replies: dict[str, int] = field(default_factory=dict)
    gaps: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def mean_minutes_to_first_contact(self) -> float | None:
        claimed = self.totals.get("callbacks_claimed", 0)
        return round(self.totals.get("wait_minutes", 0) / claimed, 1) if claimed else None

    def as_dict(self, suppressed: bool = False) -> dict[str, Any]:
        """JSON-ready figures (contract 8); with `suppressed`, exactly what the dashboard shows."""
        show = suppress if suppressed else (lambda value: value)

        def table(data: dict[str, dict[str, int]]) -> dict[str, dict[str, Cell]]:
            return {key: {inner: show(v) for inner, v in sorted(row.items())} for key, row in sorted(data.items())}

        totals: dict[str, Any] = {key: show(v) for key, v in sorted(self.totals.items()) if key != "wait_minutes"}
        mean = self.mean_minutes_to_first_contact
        if suppressed and self.totals.get("callbacks_claimed", 0) < SMALL:
            mean = None
        totals["mean_minutes_to_first_contact"] = mean
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "small_numbers_suppressed": suppressed,
            "totals": totals,
            "rates": {
                "unanswered": safe_rate(self.totals.get("fallbacks", 0), self.totals.get("messages", 0)),
                "no_local_service": safe_rate(self.totals.get("no_local", 0),
                                              self.totals.get("searches_with_municipality", 0)),
                "after_hours": safe_rate(self.totals.get("conversations_after_hours", 0),
                                         self.totals.get("conversations", 0)),
            },
            "topics_by_week": table(self.topics_by_week),
            "conversations_by_hour": table(self.hours),
            "rates_by_week": table(self.rates_by_week),
            "feedback_by_topic": table(self.feedback),
            "callbacks_by_week": table(self.callbacks_by_week),
            "time_to_first_contact": {key: show(v) for key, v in self.wait_buckets.items()},
            "municipalities": {key: show(v) for key, v in sorted(self.municipalities.items())},
            "safety_replies": {key: show(v) for key, v in sorted(self.safety_replies.items())},
            "catalogue_gaps": [{"topic": t, "municipality": m, "searches": show(n)} for t, m, n in self.gaps],
        }


def build(session: Session, until: date, since: date | None = None) -> Figures:
    """Sum the counters of the days from `since` (or the first kept) to `until`, both included."""
    query = (select(StatCount.day, StatCount.metric, StatCount.key1, StatCount.key2, func.sum(StatCount.count))
             .where(StatCount.day <= until)
             .group_by(StatCount.day, StatCount.metric, StatCount.key1, StatCount.key2))
    if since is not None:
        query = query.where(StatCount.day >= since)
    totals: defaultdict[str, int] = defaultdict(int)
    topics, hours, rates, feedback, callbacks = _nested(), _nested(), _nested(), _nested(), _nested()
    waits = {label: 0 for _bound, label in c.WAIT_BUCKETS}
    municipalities: defaultdict[str, int] = defaultdict(int)
    safety: defaultdict[str, int] = defaultdict(int)
    gaps: defaultdict[tuple[str, str], int] = defaultdict(int)
    weeks: set[str] = set()
    for day, metric, key1, key2, raw in session.execute(query):
        n = int(raw or 0)
        week = week_of(day)
        weeks.add(week)
        if metric == c.CONVERSATION:
            totals["conversations"] += n
            totals["conversations_after_hours"] += n if key2 == c.AFTER_HOURS else 0
            hours[key1][key2] += n
        elif metric == c.MESSAGE:
            totals["messages"] += n
            rates[week]["messages"] += n
        elif metric == c.SEARCH:
            totals["searches"] += n
            topics[week][key1] += n
            if key2:
                totals["searches_with_municipality"] += n
                rates[week]["searches_with_municipality"] += n
                municipalities[key2] += n
        elif metric == c.NO_LOCAL:
            totals["no_local"] += n
            rates[week]["no_local"] += n
            gaps[(key1, key2)] += n
        elif metric == c.FALLBACK:
            totals["fallbacks"] += n
            rates[week]["fallbacks"] += n
        elif metric == c.SAFETY_REPLY:
            totals["safety_replies"] += n
            safety[key1] += n
        elif metric in (c.CALLBACK_CREATED, c.CALLBACK_CLAIMED, c.CALLBACK_DONE):
            name = metric.removeprefix("callback_")
            totals[f"callbacks_{name}"] += n
            callbacks[week][name] += n
            if metric == c.CALLBACK_CLAIMED and key2 in waits:
                waits[key2] += n
        elif metric == c.CALLBACK_WAIT_MINUTES:
            totals["wait_minutes"] += n
        elif metric == c.FEEDBACK:
            totals[f"feedback_{key2}"] += n
            feedback[key1][key2] += n
        elif metric == c.FEEDBACK_REASON:
            feedback[key1][key2] += n
    for key in ("conversations", "conversations_after_hours", "messages", "searches", "searches_with_municipality",
                "no_local", "fallbacks", "safety_replies", "callbacks_created", "callbacks_claimed",
                "callbacks_done", "feedback_up", "feedback_down"):
        totals.setdefault(key, 0)

    def plain(data: defaultdict[str, defaultdict[str, int]]) -> dict[str, dict[str, int]]:
        return {key: dict(row) for key, row in data.items()}

    return Figures(
        since=since, until=until, weeks=sorted(weeks), totals=dict(totals), topics_by_week=plain(topics),
        hours=plain(hours), rates_by_week=plain(rates), feedback=plain(feedback), callbacks_by_week=plain(callbacks),
        wait_buckets=waits, municipalities=dict(municipalities), safety_replies=dict(safety),
        gaps=sorted(((t, m, n) for (t, m), n in gaps.items()), key=lambda g: (-g[2], g[0], g[1])),
    )


CSV_HEADER = ("kuvaaja", "jakso", "avain", "tarkenne", "määrä")


def as_csv(figures: Figures) -> str:
    """The dashboard's figures as CSV (small numbers suppressed), one row per shown number."""
    data = figures.as_dict(suppressed=True)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    period = f"{data['since'] or ''}..{data['until']}"
    for key, value in data["totals"].items():
        writer.writerow(("yhteensä", period, key, "", "" if value is None else value))
    for key, value in data["rates"].items():
        writer.writerow(("osuus", period, key, "", "" if value is None else value))
    for section in ("topics_by_week", "rates_by_week", "callbacks_by_week"):
        for week, row in data[section].items():
            for key, value in row.items():
                writer.writerow((section, week, key, "", value))
    for hour, row in data["conversations_by_hour"].items():
        for key, value in row.items():
            writer.writerow(("conversations_by_hour", period, hour, key, value))
    for topic, row in data["feedback_by_topic"].items():
        for key, value in row.items():
            writer.writerow(("feedback_by_topic", period, topic, key, value))
    for section in ("time_to_first_contact", "municipalities", "safety_replies"):
        for key, value in data[section].items():
            writer.writerow((section, period, key, "", value))
    for gap in data["catalogue_gaps"]:
        writer.writerow(("catalogue_gaps", period, gap["topic"], gap["municipality"], gap["searches"]))
    return out.getvalue()
