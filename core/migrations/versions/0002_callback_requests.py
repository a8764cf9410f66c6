"""Contact requests (Pyydä apua callbacks).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("contact_method", sa.String(10), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("time_window", sa.String(20), nullable=False),
        sa.Column("alias", sa.String(40), nullable=True),
        sa.Column("municipality", sa.String(60), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_notice_version", sa.String(20), nullable=False),
        sa.Column("callback_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("claimed_by", sa.String(60), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_callback_requests"),
    )
    op.create_index("ix_callback_requests_status_created", "callback_requests", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_callback_requests_status_created", table_name="callback_requests")
    op.drop_table("callback_requests")
