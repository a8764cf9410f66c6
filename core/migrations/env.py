"""Alembic environment: the whole application database shares core.db.Base."""

from __future__ import annotations

import importlib
import logging.config

from alembic import context
from sqlalchemy import create_engine, pool

from core.db import Base, database_url

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    # Respect a caller's logging setup (tests, the bot CLI); configure only a bare `alembic` run.
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

importlib.import_module("catalog.models")
try:
    # The bot's tables (callbacks, staff) live in the same database when the bot package is present.
    importlib.import_module("bot.callbacks.models")
except ModuleNotFoundError as exc:
    if exc.name not in ("bot", "bot.callbacks.models"):
        raise

target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # No foreign-key pragma here: batch migrations on SQLite recreate tables.
    engine = create_engine(_url(), poolclass=pool.NullPool, future=True)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
