"""Fixtures for action tests: a migrated SQLite catalogue with the bundled sample data, wired into the actions,
and a fixed clock (PERHEOPAS_NOW)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# Tuesday 24 November 2026, 13.00 in Helsinki: office open, most meeting places have hours today.
OFFICE_HOURS_NOW = "2026-11-24T13:00:00+02:00"


@pytest.fixture(scope="session")
def catalogue_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One application database for all action tests: migrated, with the sample catalogue loaded."""
    from catalog.importer import load_sample
    from core.db import make_engine, make_session_factory
    from core.schema import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('actions-db') / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_sample(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture()
def sessions(catalogue_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    """The actions' session factory, pointed at the test database; contact requests are emptied first."""
    from actions import actions, callback, callback_steps
    from bot.callbacks.models import CallbackRequest
    from core.db import make_session_factory

    factory = make_session_factory(catalogue_engine)
    with factory() as session:
        session.query(CallbackRequest).delete()
        session.commit()
    for module in (actions, callback, callback_steps):  # each action module imported the factory by name
        if hasattr(module, "session_factory"):
            monkeypatch.setattr(module, "session_factory", lambda: factory)
    monkeypatch.setenv("PERHEOPAS_NOW", OFFICE_HOURS_NOW)
    # Each test starts with fresh contact-request limits (they count per conversation and per process).
    from core.ratelimit import SlidingWindowLimiter

    monkeypatch.setattr(callback_steps, "_per_conversation",
                        SlidingWindowLimiter(*callback_steps.REQUESTS_PER_CONVERSATION))
    monkeypatch.setattr(callback_steps, "_per_process", SlidingWindowLimiter(*callback_steps.REQUESTS_PER_PROCESS))
    return factory


@pytest.fixture()
def domain() -> dict[str, Any]:
    from action_fixtures import load_domain

    return load_domain()
