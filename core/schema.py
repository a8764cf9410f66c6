"""Schema migrations with Alembic, run programmatically (`python -m catalog migrate`, `make run`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.db import REPO_ROOT, database_url


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration for the repo's migrations, pointed at `url` (default: DATABASE_URL)."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "core/migrations"))
    # ConfigParser interpolates %; URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the application database to `revision` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)
