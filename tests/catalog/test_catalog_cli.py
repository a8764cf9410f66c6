"""`python -m catalog` as a user runs it (subprocess), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from catalog_helpers import FIXTURE_DIR
from catalog_helpers import run_catalog_cli as run
from sqlalchemy.engine import Engine

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fixture_db(engine: Engine, db_url: str) -> str:
    """The module database with the independent PTV fixture imported through the CLI."""
    from servers import empty_tables

    from core.db import Base

    empty_tables(engine, Base.metadata)
    result = run(db_url, "import-ptv", str(FIXTURE_DIR))
    assert result.returncode == 0, result.stderr
    assert "added: 4 services, 8 channels" in result.stdout
    assert "not published (Draft)" in result.stdout
    return db_url


def test_search_kempele_lists_only_kempele_locals_first(fixture_db: str) -> None:
    result = run(fixture_db, "search", "--topic", "kohtaamispaikka", "--municipality", "Kempeleessä")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    entries = [line for line in lines if line[:1].isdigit()]
    assert entries == [
        "1. Kempeleen avoin päiväkoti [location, local]",
        "2. Perhekahvila Linnakangas [location, local]",
        "3. Kohtaamispaikkojen infopuhelin [phone, regional]",
        "4. Verkkoperhekahvila-chat [chat, national]",
    ]
    assert "Meri-Toppila" not in result.stdout
    assert "   aukiolo: ti–to 9.00–12.00 – avautuu 24.11. klo 9.00" in lines
    assert "   aukiolo: ma ja ke 9.00–11.30 – avoinna nyt" in lines
    assert "   Linnakankaantie 3, 90440 Kempele" in lines


def test_search_json(fixture_db: str) -> None:
    result = run(fixture_db, "search", "--topic", "kohtaamispaikka", "--municipality", "Kempele", "--json")
    records = json.loads(result.stdout)
    assert [r["channel_name"] for r in records][:2] == ["Kempeleen avoin päiväkoti", "Perhekahvila Linnakangas"]
    assert records[1]["open_now"] is True and records[1]["hours_text"] == "ma ja ke 9.00–11.30"
    assert records[0]["next_opening"] == "2026-11-24T09:00:00+02:00"


def test_search_free_text_and_unknown_input(fixture_db: str) -> None:
    result = run(fixture_db, "search", "--text", "sovittelu Kuusamossa")
    assert result.returncode == 0 and "1. Sovittelun puhelin" in result.stdout
    bad = run(fixture_db, "search", "--topic", "kohtaamispaikka", "--municipality", "Atlantis")
    assert bad.returncode == 2 and "Atlantis" in bad.stderr


def test_reimport_reports_unchanged(fixture_db: str) -> None:
    result = run(
        fixture_db, "import-ptv", str(FIXTURE_DIR / "services.json"), str(FIXTURE_DIR / "channels.json"), "--json"
    )
    report = json.loads(result.stdout)
    assert report["unchanged"] == {"service": 4, "channel": 8} and report["added"] == {}


def test_bad_file_exits_with_a_clear_message(fixture_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "rikki.json"
    bad.write_text(
        '{"itemList": [{"id": "x-1", "serviceChannelType": "Teleportti", "serviceChannelNames": []}]}', encoding="utf-8"
    )
    result = run(fixture_db, "import-ptv", str(FIXTURE_DIR), str(bad))
    assert result.returncode == 2
    assert "nothing was changed" in result.stderr and "rikki.json: item 0 (id x-1)" in result.stderr
    assert "unknown channel type" in result.stderr


def test_validate_lists_channels_without_topic(fixture_db: str) -> None:
    result = run(fixture_db, "validate")
    assert result.returncode == 1
    assert "channels with no topic (the bot can never offer them): 1" in result.stdout
    assert "Kunnantalon asiointipiste" in result.stdout


def test_stats(fixture_db: str) -> None:
    data = json.loads(run(fixture_db, "stats", "--json").stdout)
    assert data["services"] == 4 and data["channels"] == 8
    assert data["by_scope"] == {"local": 4, "national": 2, "regional": 2}
    assert data["by_topic"]["kohtaamispaikka"] == 5


def test_migrate_and_load_sample_on_a_fresh_database(new_database: Callable[[str], str], db_url: str) -> None:
    fresh = new_database("postgresql" if db_url.startswith("postgresql") else "sqlite")
    first = run(fresh, "migrate")
    assert first.returncode == 0 and "up to date" in first.stdout, first.stderr
    loaded = run(fresh, "load-sample", "--if-empty")
    assert loaded.returncode == 0 and "added: 53 services" in loaded.stdout, loaded.stderr
    again = run(fresh, "load-sample", "--if-empty")
    assert "already has services" in again.stdout
    assert run(fresh, "validate").returncode == 0
