"""Counting as the bot goes: what each counter means, the upsert that adds to it, and an in-memory buffer.

Every count is (Helsinki day, metric, key1, key2) plus an amount. The keys come from fixed vocabularies chosen by
the caller (a catalogue topic, a municipality's official name, an hour "00".."23", a triage route, a feedback
reason), never from what a person typed, and no count carries a session, a request or a time finer than the hour.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, inspect, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.stats.models import StatCount
from core.clock import HELSINKI

log = logging.getLogger("perheopas.stats")

# The metrics and their keys (key1, key2); "" where a key is not used.
CONVERSATION = "conversation"  # hour "00".."23", OFFICE or AFTER_HOURS: a conversation's first message
MESSAGE = "message"  # -, -: every message the gateway forwards (the base of the unanswered rate)
SEARCH = "search"  # topic, municipality or "": a service answer, with the topic string the search used
NO_LOCAL = "no_local"  # topic, municipality: a search that found nothing local or regional there
FALLBACK = "fallback"  # topic or "", municipality or "": the bot did not understand (action_fallback_help)
SAFETY_REPLY = "safety_reply"  # triage route (danger, crisis, young, ...): the gateway's verdict on a message
CALLBACK_CREATED = "callback_created"  # topic, channel (CHAT or WEB_FORM)
CALLBACK_CLAIMED = "callback_claimed"  # topic, wait bucket (WAIT_BUCKETS): time to first contact
CALLBACK_WAIT_MINUTES = "callback_wait_minutes"  # topic, -: the amount is minutes from creation to claim
CALLBACK_DONE = "callback_done"  # topic, -
FEEDBACK = "feedback"  # topic, UP or DOWN
FEEDBACK_REASON = "feedback_reason"  # topic, a reason of FEEDBACK_REASONS

OFFICE, AFTER_HOURS = "office", "after_hours"
CHAT, WEB_FORM = "chat", "web"
UP, DOWN = "up", "down"
RATINGS = (UP, DOWN)
#: The fixed reasons a parent may give for a thumbs-down (no free text): "ei löytynyt läheltä", "tieto oli
#: väärin", "en saanut vastausta kysymykseeni".
FEEDBACK_REASONS = ("not_near", "wrong_info", "not_answered")
#: Time from a contact request to its claim, in buckets (upper bound in minutes, label); the last has no bound.
WAIT_BUCKETS: tuple[tuple[int | None, str], ...] = (
    (60, "under_1h"), (4 * 60, "1_4h"), (24 * 60, "4_24h"), (3 * 24 * 60, "1_3d"), (None, "over_3d"))

KEY_CHARS = 80
RETENTION_ENV = "PERHEOPAS_STATS_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 3 * 365


@dataclass(frozen=True)
class Count:
    """One thing to add to a counter."""

    day: date
    metric: str
    key1: str = ""
    key2: str = ""
    amount: int = 1


def helsinki_day(moment: datetime) -> date:
    return moment.astimezone(HELSINKI).date() if moment.tzinfo else moment.date()


def count_at(moment: datetime, metric: str, key1: str | None = "", key2: str | None = "", amount: int = 1) -> Count:
    """A Count on `moment`'s Helsinki day; the moment itself is not kept."""
    return Count(helsinki_day(moment), metric, (key1 or "")[:KEY_CHARS], (key2 or "")[:KEY_CHARS], amount)


def conversation_count(moment: datetime, office_open: bool) -> Count:
    """A conversation started: its hour of day and whether staff were at work, nothing finer."""
    hour = f"{moment.astimezone(HELSINKI).hour:02d}"
    return count_at(moment, CONVERSATION, hour, OFFICE if office_open else AFTER_HOURS)


def wait_bucket(minutes: float) -> str:
    for bound, label in WAIT_BUCKETS:
        if bound is None or minutes < bound:
            return label
    raise AssertionError("the last bucket has no bound")


def claim_counts(topic: str, created_at: datetime, claimed_at: datetime) -> list[Count]:
    """Counts for a claimed contact request: its time to first contact as a bucket and as minutes to add up."""
    minutes = max(0, int((claimed_at - created_at).total_seconds() // 60))
    return [count_at(claimed_at, CALLBACK_CLAIMED, topic, wait_bucket(minutes)),
            count_at(claimed_at, CALLBACK_WAIT_MINUTES, topic, amount=minutes)]


def _merge(counts: Iterable[Count]) -> Counter[tuple[date, str, str, str]]:
    merged: Counter[tuple[date, str, str, str]] = Counter()
    for item in counts:
        merged[(item.day, item.metric, item.key1[:KEY_CHARS], item.key2[:KEY_CHARS])] += item.amount
    return merged


def add_counts(session: Session, counts: Iterable[Count]) -> None:
    """Add to the counters in the session's transaction (the caller commits): one upsert per distinct counter.

    Counters are written in sorted order, so two writers never lock the same rows in opposite orders.
    """
    table = StatCount.__table__
    dialect = session.get_bind().dialect.name
    for (day, metric, key1, key2), amount in sorted(_merge(counts).items()):
        values = {"day": day, "metric": metric, "key1": key1, "key2": key2, "count": amount}
        if dialect in ("sqlite", "postgresql"):
            insert = sqlite_insert(table) if dialect == "sqlite" else postgresql_insert(table)
            stmt = insert.values(**values)
            session.execute(stmt.on_conflict_do_update(
                index_elements=[table.c.day, table.c.metric, table.c.key1, table.c.key2],
                set_={"count": table.c.count + stmt.excluded.count}))
            continue
        where = (table.c.day == day, table.c.metric == metric, table.c.key1 == key1, table.c.key2 == key2)
        if session.execute(update(table).where(*where).values(count=table.c.count + amount)).rowcount == 0:
            session.execute(table.insert().values(**values))


def record(session: Session, *counts: Count) -> bool:
    """Add and commit, for callers that count beside their real work (the actions): a failure is logged and
    rolled back, never raised, so a counter can never cost a parent their answer. Returns whether it was stored."""
    try:
        add_counts(session, counts)
        session.commit()
        return True
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("counters not stored: %s", type(error).__name__)
        return False


class CounterBuffer:
    """Counts kept in memory until a background task writes them (the web app), so no chat request waits for
    the database. Its size is bounded by the vocabularies of the keys, not by the traffic."""

    def __init__(self) -> None:
        self._pending: Counter[Count] = Counter()

    def add(self, *counts: Count) -> None:
        for item in counts:
            self._pending[Count(item.day, item.metric, item.key1, item.key2)] += item.amount

    def drain(self) -> list[Count]:
        pending, self._pending = self._pending, Counter()
        return [Count(c.day, c.metric, c.key1, c.key2, amount) for c, amount in pending.items()]

    def __len__(self) -> int:
        return len(self._pending)


def write_counts(session: Session, counts: list[Count]) -> None:
    """Add a drained buffer's counts and commit (raises, so the caller can keep them for the next try)."""
    add_counts(session, counts)
    session.commit()


def retention_days_from_env() -> int:
    """PERHEOPAS_STATS_RETENTION_DAYS, else three years; anything but a whole number of at least 1 is an error."""
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV} must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError(f"{RETENTION_ENV} must be at least 1 day, not {raw!r}")
    return days


def purge_counts(session: Session, today: date, days: int) -> int:
    """Delete counters of days more than `days` before `today`; returns how many rows went (0 on a database not
    yet migrated to 0007, so the nightly purge of personal data never stops at the counters)."""
    if not inspect(session.connection()).has_table(StatCount.__tablename__):
        return 0
    result = session.execute(delete(StatCount).where(StatCount.day < today - timedelta(days=days))
                             .execution_options(synchronize_session=False))
    session.commit()
    return int(result.rowcount or 0)
