"""Retention (safety rule S3): delete contact requests and old conversations on a schedule.

`python -m bot purge` runs both. Handled (status "done") contact requests go N days after they were handled,
conversations M days after their last event; both default to 30 days. Every contact request, in any status, goes
at the latest PERHEOPAS_CALLBACK_MAX_DAYS (90) days after it was made: a request nobody handled in three months
must not keep a phone number for ever. The staff console warns a week before. The anonymous daily counters
(bot.stats) go after PERHEOPAS_STATS_RETENTION_DAYS (three years). Run it daily (README).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, delete, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.callbacks import retention
from bot.callbacks.models import CallbackRequest
from bot.stats import counters

log = logging.getLogger("perheopas.purge")

DEFAULT_CALLBACK_DAYS = 30
DEFAULT_CONVERSATION_DAYS = 30
CALLBACK_DAYS_ENV = "PERHEOPAS_CALLBACK_RETENTION_DAYS"
CONVERSATION_DAYS_ENV = "PERHEOPAS_CONVERSATION_RETENTION_DAYS"

# The columns of Rasa's SQL tracker store table that purge needs (rasa.core.tracker_store.SQLTrackerStore).
_tracker_metadata = MetaData()
TRACKER_EVENTS = Table(
    "events", _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


@dataclass(frozen=True)
class PurgeResult:
    callbacks_deleted: int
    conversations_deleted: int
    events_deleted: int
    expired_deleted: int = 0
    stats_deleted: int = 0


def retention_days(env_name: str, default: int) -> int:
    """Days from the environment, else the default; a negative or non-number value is a configuration error."""
    raw = os.environ.get(env_name, "").strip()
    if not raw:
        return default
    days = int(raw)
    if days < 0:
        raise ValueError(f"{env_name} must be 0 or more days, not {raw!r}")
    return days


def tracker_database_url() -> str:
    """Rasa's tracker database, as endpoints.yml sees it: PERHEOPAS_TRACKER_DB is a SQLite path or a full URL."""
    from core.settings import var_dir

    value = os.environ.get("PERHEOPAS_TRACKER_DB", "").strip() or str(var_dir() / "tracker.db")
    return value if "://" in value else f"sqlite:///{value}"


def _delete_callbacks(session: Session, *conditions: Any) -> int:
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Phone numbers would otherwise stay readable in the file's free pages until overwritten.
        session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
    result = session.execute(delete(CallbackRequest).where(*conditions).execution_options(synchronize_session=False))
    session.commit()
    deleted = int(result.rowcount or 0)
    if sqlite and deleted:
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        session.commit()
    return deleted


def purge_callbacks(session: Session, now: datetime, days: int) -> int:
    """Delete contact requests handled more than `days` ago; returns how many went."""
    # Times are compared in UTC: some writers store naive UTC in SQLite, and on PostgreSQL the zone is kept.
    cutoff = (now - timedelta(days=days)).astimezone(timezone.utc)
    handled_at = func.coalesce(CallbackRequest.done_at, CallbackRequest.created_at)
    return _delete_callbacks(session, CallbackRequest.status == "done", handled_at < cutoff)


def purge_expired_callbacks(session: Session, now: datetime, max_days: int) -> int:
    """Delete every contact request, whatever its status, made more than `max_days` ago; returns how many went."""
    cutoff = (now - timedelta(days=max_days)).astimezone(timezone.utc)
    return _delete_callbacks(session, CallbackRequest.created_at < cutoff)


def purge_conversations(engine: Engine, now: datetime, days: int) -> tuple[int, int]:
    """Delete every conversation whose last event is older than `days`; returns (conversations, events)."""
    if not inspect(engine).has_table(TRACKER_EVENTS.name):
        return 0, 0  # Rasa has not stored anything yet.
    cutoff = (now - timedelta(days=days)).timestamp()
    stale = (
        select(TRACKER_EVENTS.c.sender_id)
        .group_by(TRACKER_EVENTS.c.sender_id)
        .having(func.max(TRACKER_EVENTS.c.timestamp) < cutoff)
    )
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            # Deleted rows would otherwise stay readable in the file's free pages until overwritten.
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
        senders = [row[0] for row in conn.execute(stale)]
        events = 0
        for start in range(0, len(senders), 500):
            chunk = senders[start:start + 500]
            events += int(conn.execute(delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.sender_id.in_(chunk))).rowcount
                          or 0)
    if engine.dialect.name == "sqlite" and senders:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # a no-op unless the file is in WAL mode
    return len(senders), events


def run_purge(callback_days: int | None = None, conversation_days: int | None = None,
              now: datetime | None = None, max_days: int | None = None, stats_days: int | None = None) -> PurgeResult:
    """The CLI's work: resolve settings at the edge, then purge the application and the tracker database."""
    from core.clock import now as clock_now
    from core.db import make_engine, make_session_factory

    now = now or clock_now()
    if callback_days is None:
        callback_days = retention_days(CALLBACK_DAYS_ENV, DEFAULT_CALLBACK_DAYS)
    if conversation_days is None:
        conversation_days = retention_days(CONVERSATION_DAYS_ENV, DEFAULT_CONVERSATION_DAYS)
    if max_days is None:
        max_days = retention.max_days_from_env()
    if stats_days is None:
        stats_days = counters.retention_days_from_env()

    app_engine = make_engine()
    try:
        with make_session_factory(app_engine)() as session:
            expired = purge_expired_callbacks(session, now, max_days)
            callbacks = purge_callbacks(session, now, callback_days)
            stats = counters.purge_counts(session, now.date(), stats_days)
    finally:
        app_engine.dispose()

    # A plain engine: Rasa owns this file and its journal mode, which make_engine's SQLite set-up would change.
    tracker_engine = create_engine(tracker_database_url(), future=True)
    try:
        conversations, events = purge_conversations(tracker_engine, now, conversation_days)
    finally:
        tracker_engine.dispose()
    return PurgeResult(callbacks, conversations, events, expired, stats)


def purge_command(callback_days: int | None, conversation_days: int | None, max_days: int | None = None,
                  stats_days: int | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    if any(days is not None and days < 0 for days in (callback_days, conversation_days)):
        print("Retention days must be 0 or more.", file=sys.stderr)
        return 2
    if stats_days is not None and stats_days < 1:
        print("The anonymous counters must be kept at least 1 day.", file=sys.stderr)
        return 2
    if max_days is not None and max_days < 1:
        print("The maximum age of a contact request must be at least 1 day.", file=sys.stderr)
        return 2
    try:
        result = run_purge(callback_days, conversation_days, max_days=max_days, stats_days=stats_days)
    except ValueError as error:  # a bad retention setting in the environment
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Counts only: what was deleted is nobody's business any more.
    print(f"Deleted {result.callbacks_deleted} handled contact requests, {result.conversations_deleted} "
          f"conversations ({result.events_deleted} events), {result.expired_deleted} contact requests older than "
          f"the maximum age, {result.stats_deleted} daily counters older than the statistics retention.")
    return 0
