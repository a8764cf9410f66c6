"""Shared by catalogue tests: the independent PTV fixture, a fixed clock and database snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import HELSINKI

REPO = Path(__file__).resolve().parents[2]
FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "ptv"
MONDAY_10 = "2026-11-23T10:00:00+02:00"
# Monday 23 November 2026, 10.00 in Helsinki.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=HELSINKI)


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every catalogue table, sorted: equal snapshots mean an unchanged database."""
    from core.db import Base

    tables = {m.local_table.name for m in Base.registry.mappers if m.class_.__module__ == "catalog.models"}
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            continue
        rows = session.execute(select(table)).all()
        out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    session.rollback()
    return out


def run_catalog_cli(db_url: str, *args: str, now: str = MONDAY_10) -> subprocess.CompletedProcess[str]:
    """`python -m catalog ARGS` against `db_url` with a fixed clock, as an administrator runs it."""
    env = {**os.environ, "DATABASE_URL": db_url, "PERHEOPAS_NOW": now, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "catalog", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
