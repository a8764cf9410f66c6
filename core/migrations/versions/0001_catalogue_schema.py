"""Catalogue schema: organisations, services, channels, coverage, topics, addresses, phones, hours.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOCALIZED = ("fi", "sv", "en")


def _localized(prefix: str, type_: sa.types.TypeEngine) -> list[sa.Column]:
    return [sa.Column(f"{prefix}_{lang}", type_, nullable=True) for lang in LOCALIZED]


def upgrade() -> None:
    op.create_table(
        "catalog_meta",
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_catalog_meta"),
    )
    op.create_table(
        "municipality",
        sa.Column("code", sa.String(3), nullable=False),
        sa.Column("name_fi", sa.String(100), nullable=False),
        sa.Column("name_sv", sa.String(100), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("wellbeing_area", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_municipality"),
    )
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        *_localized("name", sa.String(300)),
        sa.PrimaryKeyConstraint("id", name="pk_organisation"),
        sa.UniqueConstraint("source_id", name="uq_organisation_source_id"),
    )
    op.create_table(
        "service_channel",
        sa.Column("service_source_id", sa.String(100), nullable=False),
        sa.Column("channel_source_id", sa.String(100), nullable=False),
        sa.Column("declared_by", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("service_source_id", "channel_source_id", "declared_by", name="pk_service_channel"),
    )
    op.create_index("ix_service_channel_channel_source_id", "service_channel", ["channel_source_id"])
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        *_localized("name", sa.String(300)),
        *_localized("summary", sa.Text()),
        *_localized("description", sa.Text()),
        sa.Column("service_type", sa.String(40), nullable=True),
        sa.Column("charge_type", sa.String(40), nullable=True),
        sa.Column("area_type", sa.String(40), nullable=True),
        sa.Column("languages", sa.String(100), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("is_example", sa.Boolean(), nullable=False),
        sa.Column("source_url", sa.String(500), nullable=True),
        sa.Column("modified", sa.DateTime(), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_service_organisation_id_organisation",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_service"),
        sa.UniqueConstraint("source_id", name="uq_service_source_id"),
    )
    op.create_index("ix_service_organisation_id", "service", ["organisation_id"])
    op.create_table(
        "service_term",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("label_fi", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name="fk_service_term_service_id_service", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("service_id", "kind", "code", name="pk_service_term"),
    )
    op.create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ptv_type", sa.String(32), nullable=False),
        *_localized("name", sa.String(300)),
        *_localized("summary", sa.Text()),
        *_localized("description", sa.Text()),
        # Byte-wise collation on PostgreSQL so that ties sort as on SQLite.
        sa.Column(
            "sort_key",
            sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("area_type", sa.String(40), nullable=True),
        sa.Column("area_name_fi", sa.String(200), nullable=True),
        sa.Column("municipality_code", sa.String(3), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("email", sa.String(300), nullable=True),
        sa.Column("min_age", sa.SmallInteger(), nullable=True),
        sa.Column("max_age", sa.SmallInteger(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("is_example", sa.Boolean(), nullable=False),
        sa.Column("source_url", sa.String(500), nullable=True),
        sa.Column("modified", sa.DateTime(), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("display_json", sa.Text(), nullable=False),
        sa.Column("service_name_fi", sa.String(300), nullable=True),
        sa.Column("municipality_name_fi", sa.String(100), nullable=True),
        sa.Column("organisation_name_fi", sa.String(300), nullable=True),
        sa.Column("short_description_fi", sa.Text(), nullable=True),
        sa.Column("topic_list", sa.String(1000), nullable=True),
        sa.Column("search_blob", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["municipality.code"], name="fk_channel_municipality_code_municipality"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name="fk_channel_organisation_id_organisation",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_channel"),
        sa.UniqueConstraint("source_id", name="uq_channel_source_id"),
    )
    op.create_index("ix_channel_municipality_code", "channel", ["municipality_code"])
    op.create_index("ix_channel_organisation_id", "channel", ["organisation_id"])
    op.create_table(
        "channel_area",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(3), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name="fk_channel_area_channel_id_channel", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["municipality.code"], name="fk_channel_area_municipality_code_municipality"
        ),
        sa.PrimaryKeyConstraint("channel_id", "municipality_code", name="pk_channel_area"),
    )
    op.create_index("ix_channel_area_municipality", "channel_area", ["municipality_code", "channel_id"])
    op.create_table(
        "channel_topic",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name="fk_channel_topic_channel_id_channel", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", "topic", name="pk_channel_topic"),
    )
    op.create_index("ix_channel_topic_topic", "channel_topic", ["topic", "scope", "channel_id"])
    op.create_table(
        "channel_language",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name="fk_channel_language_channel_id_channel", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", "language", name="pk_channel_language"),
    )
    op.create_table(
        "address",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("street", sa.String(300), nullable=True),
        sa.Column("street_number", sa.String(40), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("post_office", sa.String(100), nullable=True),
        sa.Column("municipality_code", sa.String(3), nullable=True),
        sa.Column("info_fi", sa.String(500), nullable=True),
        sa.Column("northing", sa.Float(), nullable=True),
        sa.Column("easting", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name="fk_address_channel_id_channel", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["municipality_code"], ["municipality.code"], name="fk_address_municipality_code_municipality"
        ),
        sa.PrimaryKeyConstraint("channel_id", "seq", name="pk_address"),
    )
    op.create_table(
        "phone",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("phone_type", sa.String(20), nullable=True),
        sa.Column("prefix", sa.String(10), nullable=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("display", sa.String(60), nullable=False),
        sa.Column("charge_type", sa.String(20), nullable=True),
        sa.Column("charge_description", sa.String(300), nullable=True),
        sa.Column("info", sa.String(300), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name="fk_phone_channel_id_channel", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id", "seq", name="pk_phone"),
    )
    op.create_table(
        "service_hours",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("is_closed", sa.Boolean(), nullable=False),
        sa.Column("is_always_open", sa.Boolean(), nullable=False),
        sa.Column("is_reservation", sa.Boolean(), nullable=False),
        sa.Column("info_fi", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channel.id"], name="fk_service_hours_channel_id_channel", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", "seq", name="pk_service_hours"),
    )
    op.create_table(
        "opening_range",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("hours_seq", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("day_from", sa.SmallInteger(), nullable=True),
        sa.Column("day_to", sa.SmallInteger(), nullable=True),
        sa.Column("time_from", sa.Time(), nullable=False),
        sa.Column("time_to", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id", "hours_seq"],
            ["service_hours.channel_id", "service_hours.seq"],
            name="fk_opening_range_service_hours",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "hours_seq", "seq", name="pk_opening_range"),
    )


def downgrade() -> None:
    for table in (
        "opening_range",
        "service_hours",
        "phone",
        "address",
        "channel_language",
        "channel_topic",
        "channel_area",
        "channel",
        "service_term",
        "service",
        "service_channel",
        "organisation",
        "municipality",
        "catalog_meta",
    ):
        op.drop_table(table)
