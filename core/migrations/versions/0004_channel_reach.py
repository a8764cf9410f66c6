"""Catalogue search index channel_reach: (topic, municipality) → channels, filled from existing data.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_reach",
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("municipality_code", sa.String(3), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name="fk_channel_reach_channel_id_channel", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("topic", "municipality_code", "channel_id", name="pk_channel_reach"),
    )
    op.create_index("ix_channel_reach_channel", "channel_reach", ["channel_id"])
    # An existing catalogue gets its index from the topics and coverage it already has.
    op.execute(
        "INSERT INTO channel_reach (topic, municipality_code, channel_id, scope) "
        "SELECT t.topic, a.municipality_code, t.channel_id, t.scope "
        "FROM channel_topic t JOIN channel_area a ON a.channel_id = t.channel_id "
        "WHERE t.scope <> 'national'"
    )


def downgrade() -> None:
    op.drop_index("ix_channel_reach_channel", table_name="channel_reach")
    op.drop_table("channel_reach")
