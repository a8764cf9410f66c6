"""Lazily created shared resources of the action server: one engine per process, made on first use."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine())
