"""Swedish and English display texts of catalogue channels (issue 16): service names, short descriptions and
the Swedish municipality name, derived like the Finnish ones.

The upgrade marks the catalogue's classification stale, so that the next `python -m catalog migrate` (which
`make run` does) or import derives the new columns from the services' Swedish and English texts already stored.
Address lines and phone charges in Swedish and English come with the next PTV import (parser version 2).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (
    ("service_name_sv", sa.String(300)),
    ("service_name_en", sa.String(300)),
    ("municipality_name_sv", sa.String(100)),
    ("short_description_sv", sa.Text()),
    ("short_description_en", sa.Text()),
)
# catalog.derive.TOPICS_HASH_KEY: a value that is no file's hash makes the next migrate re-derive every channel.
STALE = "stale: derive the Swedish and English columns (revision 0008)"


def upgrade() -> None:
    with op.batch_alter_table("channel") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.execute(
        sa.text("UPDATE catalog_meta SET value = :stale WHERE key = 'topics_sha256'").bindparams(stale=STALE)
    )


def downgrade() -> None:
    with op.batch_alter_table("channel") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)
