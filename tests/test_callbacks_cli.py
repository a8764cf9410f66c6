"""`python -m bot callbacks list --json` (contract 6) and migration 0005: safe contact (S9) and language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

import bot.callbacks.models  # noqa: F401  (registers the bot's tables on Base)
from bot.callbacks.queue import NewCallback, create_callback
from core.db import make_engine, make_session_factory
from core.schema import alembic_config, upgrade

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 25, 22, 0, tzinfo=timezone.utc)


def _list_json(url: str) -> list[dict[str, object]]:
    env = {**os.environ, "DATABASE_URL": url}
    out = subprocess.run([sys.executable, "-m", "bot", "callbacks", "list", "--json"], cwd=REPO, env=env,
                         check=True, capture_output=True, text=True, timeout=120)
    rows: list[dict[str, object]] = json.loads(out.stdout)
    return rows


def test_json_lists_sms_safe_time_message_wish_and_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            create_callback(db, NewCallback(
                topic="lahisuhdevakivalta", contact_method="sms", phone_e164="+358501123456", time_window="own",
                callback_due=date(2026, 12, 28), consent_notice_version="chat-2026-2",
                safe_time="kun lapset ovat koulussa", may_leave_message=False,
            ), NOW)
            create_callback(db, NewCallback(
                topic="eroauttaminen", contact_method="call", phone_e164="+358401234567", time_window="morning",
                callback_due=date(2026, 12, 28), consent_notice_version="chat-2026-2",
            ), NOW)
    finally:
        engine.dispose()
    rows = {row["topic"]: row for row in _list_json(url)}
    violence, other = rows["lahisuhdevakivalta"], rows["eroauttaminen"]
    assert violence["contact_method"] == "sms" and violence["language"] == "fi"
    assert violence["safe_time"] == "kun lapset ovat koulussa" and violence["may_leave_message"] is False
    assert violence["phone"] == "+358501123456"  # a number with 112 in it is stored like any other
    assert other["contact_method"] == "call" and other["language"] == "fi"
    assert other["safe_time"] is None and other["may_leave_message"] is None
    for key in ("id", "created_at", "time_window", "alias", "municipality", "urgent", "callback_due", "status"):
        assert key in violence, key


def test_migration_0005_keeps_old_rows_and_reads_them_as_finnish(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO callback_requests (id, created_at, topic, contact_method, phone, time_window, urgent, "
                "consent_at, consent_notice_version, callback_due, status) VALUES ('a' , '2026-11-24 10:00:00', "
                "'muu', 'call', '+358401234567', 'any', 0, '2026-11-24 10:00:00', 'chat-2026-1', '2026-11-25', 'new')"))
        upgrade(url)
        columns = {c["name"]: c for c in inspect(engine).get_columns("callback_requests")}
        for name in ("safe_time", "may_leave_message", "language"):
            assert columns[name]["nullable"], name
    finally:
        engine.dispose()
    [row] = _list_json(url)
    assert row["language"] == "fi" and row["safe_time"] is None and row["may_leave_message"] is None
    command.downgrade(alembic_config(url), "0004")
    engine = make_engine(url)
    try:
        assert "safe_time" not in {c["name"] for c in inspect(engine).get_columns("callback_requests")}
    finally:
        engine.dispose()


def test_callback_table_migrated_as_modelled(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import Base

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if "callback_requests" in repr(d)] == []
