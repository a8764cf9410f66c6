"""Shared fixtures: the application database on SQLite and on a throwaway PostgreSQL server.

`db_url` is parametrised over both backends (PostgreSQL is marked slow), with a fresh database per
test module; `engine` is that database migrated to the newest revision; `session` empties it first.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator

import pytest
from servers import PostgresServer, ServerUnavailable, empty_tables, start_postgres, stop_postgres
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run (installed with apt-get when missing and root)."""
    try:
        server = start_postgres()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield server
    finally:
        stop_postgres(server)


def _database_name(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40].strip("_")
    return f"t_{base}_{next(_counter)}"


@pytest.fixture(scope="module")
def new_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """A factory: backend name → URL of a fresh, empty database on that backend."""
    created: list[tuple[PostgresServer, str]] = []

    def make(backend: str) -> str:
        name = _database_name(request)
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / (name + '.db')}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(name)
        created.append((server, name))
        return url

    yield make
    for server, name in created:
        server.drop_database(name)


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, new_database: Callable[[str], str]) -> str:
    """URL of a fresh database for this module, on SQLite and on PostgreSQL."""
    return new_database(request.param)


@pytest.fixture(scope="module")
def engine(db_url: str) -> Iterator[Engine]:
    """The module's database migrated to the newest revision."""
    from core.db import make_engine
    from core.schema import upgrade

    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session over a migrated, empty application database."""
    from core.db import Base, make_session_factory

    empty_tables(engine, Base.metadata)
    with make_session_factory(engine)() as sess:
        yield sess
