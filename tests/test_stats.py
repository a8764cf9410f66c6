"""The counters themselves: upserts, the buffer, small-number suppression, the schema, roles and retention."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

import bot.callbacks.models  # noqa: F401  (registers the staff tables)
from bot.callbacks.models import StaffUser
from bot.stats import counters
from bot.stats.models import StatCount
from bot.stats.report import build, safe_rate, suppress
from core.clock import HELSINKI
from core.db import Base, make_engine, make_session_factory
from core.schema import upgrade

REPO = Path(__file__).resolve().parent.parent
DAY = date(2026, 12, 1)


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


def test_migration_0007_creates_the_counters_and_roles_as_modelled(tmp_path: Path) -> None:
    engine = make_engine(_migrated(tmp_path))
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if "stat_counts" in repr(d) or "'role'" in repr(d)] == []


def test_counts_add_up_per_day_and_keys(tmp_path: Path) -> None:
    engine = make_engine(_migrated(tmp_path))
    try:
        with make_session_factory(engine)() as db:
            moment = datetime(2026, 12, 1, 23, 30, tzinfo=HELSINKI)
            for _ in range(3):
                assert counters.record(db, counters.count_at(moment, counters.SEARCH, "kohtaamispaikka", "Oulu"),
                                       counters.count_at(moment, counters.SEARCH, "kohtaamispaikka", "Oulu"))
            counters.record(db, counters.count_at(moment + timedelta(hours=1), counters.SEARCH, "kohtaamispaikka"))
            rows = db.execute(select(StatCount.day, StatCount.key2, StatCount.count).order_by(StatCount.day)).all()
            assert rows == [(DAY, "Oulu", 6), (DAY + timedelta(days=1), "", 1)]
            figures = build(db, DAY + timedelta(days=1))
            assert figures.totals["searches"] == 7 and figures.municipalities == {"Oulu": 6}
    finally:
        engine.dispose()


def test_the_buffer_merges_and_drains() -> None:
    buffer = counters.CounterBuffer()
    moment = datetime(2026, 12, 1, 9, 5, tzinfo=HELSINKI)
    buffer.add(counters.count_at(moment, counters.MESSAGE), counters.count_at(moment, counters.MESSAGE))
    buffer.add(counters.conversation_count(moment, office_open=True))
    drained = buffer.drain()
    assert sorted((c.metric, c.key1, c.key2, c.amount) for c in drained) == [
        ("conversation", "09", "office", 1), ("message", "", "", 2)]
    assert len(buffer) == 0


def test_small_numbers_are_suppressed_and_waits_bucketed() -> None:
    assert [suppress(n) for n in (0, 1, 4, 5, 12)] == [0, "< 5", "< 5", 5, 12]
    assert safe_rate(3, 100) is None and safe_rate(10, 4) is None and safe_rate(10, 40) == 0.25
    assert [counters.wait_bucket(m) for m in (0, 59, 60, 300, 1500, 10_000)] == [
        "under_1h", "under_1h", "1_4h", "4_24h", "1_3d", "over_3d"]
    created = datetime(2026, 12, 1, 15, 0, tzinfo=HELSINKI)
    claim = counters.claim_counts("muu", created, created + timedelta(hours=2, minutes=30))
    assert [(c.metric, c.key2, c.amount) for c in claim] == [("callback_claimed", "1_4h", 1),
                                                           ("callback_wait_minutes", "", 150)]


def _cli(url: str, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO, input=stdin, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url, **env}, timeout=120)


def test_add_user_with_a_role_and_purge_of_old_counters(tmp_path: Path) -> None:
    url = _migrated(tmp_path)
    assert _cli(url, "staff", "add-user", "kaisa", "--role", "coordinator", stdin="pitkä-ja-hyvä-salasana\n"
                ).returncode == 0
    assert _cli(url, "staff", "add-user", "ville", stdin="pitkä-ja-hyvä-salasana\n").returncode == 0
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            roles = dict(db.execute(select(StaffUser.username, StaffUser.role)).all())
            assert roles == {"kaisa": "coordinator", "ville": "worker"}
            today = date(2026, 12, 7)
            for age in (0, 1094, 1096):
                counters.record(db, counters.Count(today - timedelta(days=age), counters.MESSAGE))
        done = _cli(url, "purge", PERHEOPAS_NOW="2026-12-07T12:00:00+02:00",
                    PERHEOPAS_TRACKER_DB=str(tmp_path / "tracker.db"))
        assert done.returncode == 0, done.stderr
        assert "1 daily counters" in done.stdout
        with make_session_factory(engine)() as db:
            assert len(db.execute(select(StatCount)).all()) == 2
        assert _cli(url, "purge", "--stats-days", "0").returncode == 2
        bad = _cli(url, "purge", PERHEOPAS_STATS_RETENTION_DAYS="kolme", PERHEOPAS_TRACKER_DB=str(tmp_path / "t.db"))
        assert bad.returncode == 2 and "PERHEOPAS_STATS_RETENTION_DAYS" in bad.stderr
    finally:
        engine.dispose()
