"""Migration 0008 (Swedish and English display columns) up and down, and `catalog search --display-language`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from catalog_helpers import run_catalog_cli as run
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from catalog.derive import TOPICS_HASH_KEY, ensure_classification, topics_hash
from catalog.importer import import_paths
from catalog.models import CatalogMeta, Channel
from core.db import make_engine, make_session_factory
from core.schema import alembic_config, upgrade

REPO = Path(__file__).resolve().parents[2]
LANG_DIR = Path(__file__).resolve().parent / "data" / "ptv_languages"
NEW_COLUMNS = {
    "service_name_sv",
    "service_name_en",
    "municipality_name_sv",
    "short_description_sv",
    "short_description_en",
}
OLD_KEYS = {
    "channel_id", "service_name", "channel_name", "kind", "scope", "match", "municipality", "area", "organisation",
    "address", "lat", "lon", "phones", "url", "email", "languages", "topics", "description", "hours_text",
    "hours_notes", "open_now", "open_until", "next_opening", "min_age", "max_age", "source", "source_url",
    "last_verified", "is_example",
}  # fmt: skip


def _derived(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            columns = [getattr(Channel, name) for name in sorted(NEW_COLUMNS)]
            return [tuple(row) for row in session.execute(select(Channel.source_id, *columns).order_by(Channel.id))]
    finally:
        engine.dispose()


def test_migration_0008_down_and_up_again_rederives(new_database: Callable[[str], str], db_url: str) -> None:
    url = new_database("postgresql" if db_url.startswith("postgresql") else "sqlite")
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            import_paths(session, [LANG_DIR])
        written = _derived(url)
        location = next(row for row in written if row[0] == "c40a1b2c-3d4e-4f50-9a61-100000000001")
        # municipality_name_sv, service_name_en, service_name_sv (the columns in name order)
        assert location[1:4] == ("Uleåborg", "Test area family counselling", "Testområdets familjerådgivning")
        command.downgrade(alembic_config(url), "0007")
        columns = {c["name"] for c in inspect(engine).get_columns("channel")}
        assert not NEW_COLUMNS & columns and {"service_name_fi", "short_description_fi"} <= columns
        with make_session_factory(engine)() as session:
            names = session.execute(select(Channel.__table__.c.name_sv).order_by(Channel.__table__.c.id)).scalars()
            assert "Familjerådgivningen Testgatan" in list(names)  # the channels themselves survive
        upgrade(url)
        assert {c["name"] for c in inspect(engine).get_columns("channel")} >= NEW_COLUMNS
        assert all(set(row[1:]) == {None} for row in _derived(url))
        with make_session_factory(engine)() as session:
            stale = session.execute(select(CatalogMeta.value).where(CatalogMeta.key == TOPICS_HASH_KEY)).scalar()
            assert stale != topics_hash()
            # `python -m catalog migrate` does this: the stale mark makes it derive every channel again.
            assert ensure_classification(session) == 3
        assert _derived(url) == written
        with make_session_factory(engine)() as session:
            assert ensure_classification(session) == 0
    finally:
        engine.dispose()


def test_migration_0008_on_an_empty_catalogue(new_database: Callable[[str], str]) -> None:
    url = new_database("sqlite")
    upgrade(url, "0007")
    upgrade(url)
    command.downgrade(alembic_config(url), "0007")
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            assert session.execute(select(CatalogMeta)).first() is None
            assert ensure_classification(session) == 0
    finally:
        engine.dispose()


# --- the command line -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def language_db(engine: Engine, db_url: str) -> str:
    from servers import empty_tables

    from core.db import Base

    empty_tables(engine, Base.metadata)
    result = run(db_url, "import-ptv", str(LANG_DIR))
    assert result.returncode == 0, result.stderr
    return db_url


SEARCH = ("search", "--topic", "perheneuvonta", "--municipality", "Oulu")


def test_search_json_is_unchanged_without_the_flag(language_db: str) -> None:
    result = run(language_db, *SEARCH, "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [set(r) for r in records] == [OLD_KEYS] * 3
    assert records[0]["channel_name"] == "Perheneuvola Testikatu" and records[0]["hours_text"] == "ma–pe 9.00–12.00"
    finnish = run(language_db, *SEARCH, "--json", "--display-language", "fi")
    assert [{k: v for k, v in r.items() if k in OLD_KEYS} for r in json.loads(finnish.stdout)] == records


def test_search_json_in_swedish_and_english(language_db: str) -> None:
    swedish = json.loads(run(language_db, *SEARCH, "--json", "--display-language", "sv").stdout)
    assert [set(r) for r in swedish] == [OLD_KEYS | {"display_language", "text_language", "fallback_fields"}] * 3
    assert swedish[0]["channel_name"] == "Familjerådgivningen Testgatan"
    assert swedish[0]["hours_text"] == "mån–fre 9.00–12.00" and swedish[0]["fallback_fields"] == []
    assert swedish[2]["text_language"] == "fi" and "description" in swedish[2]["fallback_fields"]
    english = json.loads(run(language_db, *SEARCH, "--json", "--display-language", "en").stdout)
    assert english[0]["hours_text"] == "Mon–Fri 9:00–12:00" and english[0]["display_language"] == "en"


def test_search_text_output_names_finnish_fallbacks_only_when_asked(language_db: str) -> None:
    plain = run(language_db, *SEARCH)
    assert plain.returncode == 0 and "vain suomeksi" not in plain.stdout
    assert "   aukiolo: ma–pe 9.00–12.00 – avoinna nyt" in plain.stdout.splitlines()
    english = run(language_db, *SEARCH, "--display-language", "en")
    assert "   aukiolo: Mon–Fri 9:00–12:00 – avoinna nyt" in english.stdout.splitlines()
    assert "   vain suomeksi: channel_name, description" in english.stdout.splitlines()
    free = run(language_db, "search", "--text", "perheneuvola Oulu", "--display-language", "sv", "--json")
    assert json.loads(free.stdout)[0]["channel_name"] == "Familjerådgivningen Testgatan"


def test_unknown_display_language_is_a_usage_error(language_db: str) -> None:
    result = run(language_db, *SEARCH, "--display-language", "de")
    assert result.returncode == 2 and "invalid choice" in result.stderr
