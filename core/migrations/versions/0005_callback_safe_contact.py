"""Contact requests: safe contact for the violence topic (S9) and the request's language (contract 6).

All three columns are nullable: rows from before this revision have none of them (and were all Finnish).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_requests") as batch:
        batch.add_column(sa.Column("safe_time", sa.String(80), nullable=True))
        batch.add_column(sa.Column("may_leave_message", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_column("language")
        batch.drop_column("may_leave_message")
        batch.drop_column("safe_time")
