"""Database plumbing shared by the whole application: one declarative Base, engine and session factories.

Nothing here connects at import time; the app or CLI entry point creates the engine and passes it down.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.future import create_engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

REPO_ROOT = Path(__file__).resolve().parent.parent

# Deterministic constraint names, so that Alembic (and its batch mode on SQLite) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def database_url() -> str:
    """The application database URL: env DATABASE_URL, else a SQLite file under <repo>/var/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    var = REPO_ROOT / "var"
    var.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{var / 'perheopas.db'}"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create a 2.0-style engine; SQLite gets foreign keys, WAL and a busy timeout on every connection.

    A SQLite file keeps its connections in a pool, as SQLAlchemy 2.0 does: 1.4 gives it a NullPool, which opened a
    connection and ran the PRAGMAs for every query, an eighth of the action server's CPU under load.
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
            if not Path(database).exists():
                os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        in_memory = database in ("", ":memory:")
        if not in_memory:
            kwargs.setdefault("poolclass", QueuePool)
            # A pooled connection may be checked out by another thread than the one that opened it.
            connect_args.setdefault("check_same_thread", False)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect(in_memory))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_backend_name() == "postgresql":
        # The application's queries touch a few hundred rows; starting parallel workers costs far more
        # (tens of milliseconds) than it saves, so keep them off for this application's connections.
        connect_args = dict(kwargs.pop("connect_args", {}))
        options = connect_args.get("options", "")
        connect_args["options"] = f"{options} -c max_parallel_workers_per_gather=0".strip()
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


def _sqlite_on_connect(in_memory: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                # WAL lets the web app read while an import or the callback queue writes.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                # A national catalogue is ~100 MB; SQLite's default 2 MB page cache would re-read it.
                cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        finally:
            cursor.close()

    return on_connect


def make_session_factory(engine: Engine) -> sessionmaker:
    """A 2.0-style session factory bound to `engine`; objects stay readable after commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)
