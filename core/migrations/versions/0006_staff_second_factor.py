"""Staff console: a TOTP second factor for staff users, and two-stage (password, then code) sessions.

Existing users have no second factor (NULL) and enrol at their next log-in; existing sessions stay full.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("staff_sessions") as batch:
        batch.add_column(sa.Column("stage", sa.String(10), nullable=False, server_default="full"))
        batch.add_column(sa.Column("enrol_secret", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("enrol_secret")
        batch.drop_column("stage")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
