"""Anonymous usage counters (stat_counts) and staff roles: coordinators see the figures, workers the queue.

Existing staff users become workers; `python -m bot staff add-user NAME --role coordinator --replace` promotes one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_counts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("key1", sa.String(80), nullable=False, server_default=""),
        sa.Column("key2", sa.String(80), nullable=False, server_default=""),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_counts")),
        sa.UniqueConstraint("day", "metric", "key1", "key2", name="uq_stat_counts_day_metric_keys"),
    )
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="worker"))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("role")
    op.drop_table("stat_counts")
