"""Alembic migrations match the models; engine and URL plumbing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from core.db import Base, database_url, make_engine
from core.schema import alembic_config, upgrade

REPO = Path(__file__).resolve().parents[2]


def catalogue_tables() -> set[str]:
    return {m.local_table.name for m in Base.registry.mappers if m.class_.__module__ == "catalog.models"}


def _diff_table(diff: object) -> str | None:
    """The table an Alembic autogenerate diff entry is about."""
    if isinstance(diff, list):  # modify_* entries come as a list of tuples
        return str(diff[0][2])
    assert isinstance(diff, tuple)
    op, obj = diff[0], diff[1]
    if op in ("add_column", "remove_column"):
        return str(diff[2])
    if op in ("add_table", "remove_table"):
        return obj.name
    if op in ("add_fk", "remove_fk"):
        return obj.parent.name
    table = getattr(obj, "table", None)
    return table.name if table is not None else None


def test_migrations_match_the_models(engine: Engine) -> None:
    tables = catalogue_tables()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if _diff_table(d) in tables] == []
    assert tables <= set(inspect(engine).get_table_names())


def test_downgrade_and_upgrade_again(new_database: Callable[[str], str], db_url: str) -> None:
    url = new_database("postgresql" if db_url.startswith("postgresql") else "sqlite")
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    eng = make_engine(url)
    try:
        assert not (catalogue_tables() & set(inspect(eng).get_table_names()))
    finally:
        eng.dispose()
    upgrade(url)
    eng = make_engine(url)
    try:
        assert catalogue_tables() <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_sqlite_engine_has_foreign_keys_wal_and_busy_timeout(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    try:
        with eng.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        eng.dispose()
    assert (tmp_path / "sub" / "x.db").exists()


def test_database_url_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@h/db")
    assert database_url() == "postgresql+psycopg2://u@h/db"
    monkeypatch.delenv("DATABASE_URL")
    assert database_url() == f"sqlite:///{REPO / 'var' / 'perheopas.db'}"


def test_nothing_connects_at_import_time(tmp_path: Path) -> None:
    code = "import core.db, catalog.models, catalog.query, catalog.importer, catalog.cli, core.schema"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "never.db").exists()


def test_search_index_migration_fills_an_existing_catalogue(new_database: Callable[[str], str], db_url: str) -> None:
    from sqlalchemy import select

    from catalog.importer import load_sample
    from catalog.models import ChannelReach
    from core.db import make_session_factory

    url = new_database("postgresql" if db_url.startswith("postgresql") else "sqlite")
    upgrade(url)
    eng = make_engine(url)
    try:
        with make_session_factory(eng)() as session:
            load_sample(session)
            query = select(
                ChannelReach.topic, ChannelReach.municipality_code, ChannelReach.channel_id, ChannelReach.scope
            )
            written = sorted(session.execute(query).all())
        assert len(written) > 100
        command.downgrade(alembic_config(url), "0003")
        upgrade(url)
        with make_session_factory(eng)() as session:
            assert sorted(session.execute(query).all()) == written
    finally:
        eng.dispose()
