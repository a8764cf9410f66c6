"""Fixtures for catalogue tests (the database fixtures `db_url`, `engine`, `session` are in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalog_helpers import FIXTURE_DIR
from sqlalchemy.orm import Session


@pytest.fixture()
def fixture_dir() -> Path:
    return FIXTURE_DIR


@pytest.fixture()
def imported(session: Session) -> Session:
    """A session over a catalogue holding the independent PTV fixture."""
    from catalog.importer import import_paths

    import_paths(session, [FIXTURE_DIR])
    return session


@pytest.fixture()
def sample(session: Session) -> Session:
    """A session over a catalogue holding the bundled sample (catalog/data/sample), as `load-sample` makes it."""
    from catalog.importer import load_sample

    report = load_sample(session, if_empty=True)
    assert report is not None and sum(report.added.values()) > 50
    return session
