"""Catalogue schema: organisations, services, channels and what the bot needs to rank and display them.

Services and channels are keyed by their source id (the PTV UUID, or the id of a curated entry) so that
imports upsert and links between services and channels survive importing them in separate runs.
The migration in core/migrations/versions/ mirrors these tables; tests check that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import relationship

from core.db import Base

# Byte-wise ordering on PostgreSQL too, so that ties sort identically on both backends.
SortKey = String(200).with_variant(String(200, collation="C"), "postgresql")

SOURCE_PTV = "ptv"
SOURCE_CURATED = "curated"

KIND_LOCATION = "location"
KIND_PHONE = "phone"
KIND_CHAT = "chat"
KIND_WEB = "web"
KINDS = (KIND_LOCATION, KIND_PHONE, KIND_CHAT, KIND_WEB)

SCOPE_LOCAL = "local"
SCOPE_REGIONAL = "regional"
SCOPE_NATIONAL = "national"
SCOPES = (SCOPE_LOCAL, SCOPE_REGIONAL, SCOPE_NATIONAL)


class Municipality(Base):
    """A Finnish municipality (Statistics Finland code) with its region and wellbeing services county."""

    __tablename__ = "municipality"

    code = Column(String(3), primary_key=True)
    name_fi = Column(String(100), nullable=False)
    name_sv = Column(String(100))
    region = Column(String(100))
    wellbeing_area = Column(String(100))


class Organisation(Base):
    """The organisation responsible for a service or channel (wellbeing area, NGO, parish...)."""

    __tablename__ = "organisation"

    id = Column(Integer, primary_key=True)
    source_id = Column(String(100), nullable=False, unique=True)
    name_fi = Column(String(300))
    name_sv = Column(String(300))
    name_en = Column(String(300))


class Service(Base):
    """A PTV service: what is offered, with classes, terms and life events used for topic classification."""

    __tablename__ = "service"

    id = Column(Integer, primary_key=True)
    source = Column(String(16), nullable=False, default=SOURCE_PTV)
    source_id = Column(String(100), nullable=False, unique=True)
    organisation_id = Column(Integer, ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    name_fi = Column(String(300))
    name_sv = Column(String(300))
    name_en = Column(String(300))
    summary_fi = Column(Text)
    summary_sv = Column(Text)
    summary_en = Column(Text)
    description_fi = Column(Text)
    description_sv = Column(Text)
    description_en = Column(Text)
    service_type = Column(String(40))
    charge_type = Column(String(40))
    area_type = Column(String(40))
    languages = Column(String(100))
    published = Column(Boolean, nullable=False, default=True)
    is_example = Column(Boolean, nullable=False, default=False)
    source_url = Column(String(500))
    modified = Column(DateTime)
    last_verified = Column(Date)
    content_hash = Column(String(64), nullable=False)

    terms = relationship("ServiceTerm", cascade="all, delete-orphan", passive_deletes=True)


class ServiceTerm(Base):
    """A classification of a service: PTV service class, ontology term, life event, target group or keyword."""

    __tablename__ = "service_term"

    service_id = Column(Integer, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    kind = Column(String(20), primary_key=True)
    code = Column(String(200), primary_key=True)
    label_fi = Column(String(300))


class ServiceChannelLink(Base):
    """Service ↔ channel connection by source id; PTV states it on both sides and either may arrive first.

    `declared_by` ("service" or "channel") records which side stated it, so that re-importing one side
    replaces only what that side said.
    """

    __tablename__ = "service_channel"

    service_source_id = Column(String(100), primary_key=True)
    channel_source_id = Column(String(100), primary_key=True, index=True)
    declared_by = Column(String(8), primary_key=True)


class CatalogMeta(Base):
    """Key-value facts about the catalogue itself, e.g. the hash of the topic rules it was classified with."""

    __tablename__ = "catalog_meta"

    key = Column(String(50), primary_key=True)
    value = Column(String(500), nullable=False)


class Channel(Base):
    """A way to reach a service: a location, a phone line, a chat/e-channel or a web page."""

    __tablename__ = "channel"

    id = Column(Integer, primary_key=True)
    source = Column(String(16), nullable=False, default=SOURCE_PTV)
    source_id = Column(String(100), nullable=False, unique=True)
    organisation_id = Column(Integer, ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    kind = Column(String(16), nullable=False)
    ptv_type = Column(String(32), nullable=False)
    name_fi = Column(String(300))
    name_sv = Column(String(300))
    name_en = Column(String(300))
    summary_fi = Column(Text)
    summary_sv = Column(Text)
    summary_en = Column(Text)
    description_fi = Column(Text)
    description_sv = Column(Text)
    description_en = Column(Text)
    sort_key = Column(SortKey, nullable=False)
    scope = Column(String(10), nullable=False)
    area_type = Column(String(40))
    area_name_fi = Column(String(200))
    municipality_code = Column(String(3), ForeignKey("municipality.code"), index=True)
    url = Column(String(1000))
    email = Column(String(300))
    min_age = Column(SmallInteger)
    max_age = Column(SmallInteger)
    published = Column(Boolean, nullable=False, default=True)
    is_example = Column(Boolean, nullable=False, default=False)
    source_url = Column(String(500))
    modified = Column(DateTime)
    last_verified = Column(Date)
    content_hash = Column(String(64), nullable=False)
    # Display-ready copy of addresses, phones, languages and hours, so that a query is one round trip.
    display_json = Column(Text, nullable=False, default="{}")
    # Derived at import from the channel and its linked services (see catalog/derive.py). The Swedish and English
    # ones stay NULL when PTV has no such text; the display then falls back to Finnish and says so.
    service_name_fi = Column(String(300))
    service_name_sv = Column(String(300))
    service_name_en = Column(String(300))
    municipality_name_fi = Column(String(100))
    municipality_name_sv = Column(String(100))
    organisation_name_fi = Column(String(300))
    short_description_fi = Column(Text)
    short_description_sv = Column(Text)
    short_description_en = Column(Text)
    topic_list = Column(String(1000))
    search_blob = Column(Text)

    addresses = relationship("Address", cascade="all, delete-orphan", passive_deletes=True, order_by="Address.seq")
    phones = relationship("Phone", cascade="all, delete-orphan", passive_deletes=True, order_by="Phone.seq")
    hours = relationship("ServiceHours", cascade="all, delete-orphan", passive_deletes=True)
    topics = relationship("ChannelTopic", cascade="all, delete-orphan", passive_deletes=True)
    areas = relationship("ChannelArea", cascade="all, delete-orphan", passive_deletes=True)
    languages = relationship("ChannelLanguage", cascade="all, delete-orphan", passive_deletes=True)


class ChannelArea(Base):
    """Municipalities a non-nationwide channel serves (regional areas are expanded to municipalities)."""

    __tablename__ = "channel_area"
    __table_args__ = (Index("ix_channel_area_municipality", "municipality_code", "channel_id"),)

    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    municipality_code = Column(String(3), ForeignKey("municipality.code"), primary_key=True)


class ChannelTopic(Base):
    """A bot topic (e.g. kohtaamispaikka, turvakoti) assigned to a channel by catalog/data/topics.yml.

    The channel's scope is repeated here so that "nationwide channels for a topic" is one index range.
    """

    __tablename__ = "channel_topic"
    __table_args__ = (Index("ix_channel_topic_topic", "topic", "scope", "channel_id"),)

    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    topic = Column(String(40), primary_key=True)
    scope = Column(String(10), nullable=False)


class ChannelReach(Base):
    """Search index derived from topics × coverage: which channels serve a municipality on a topic.

    One index range answers the bot's main question ("kohtaamispaikka in Kempele") on both backends,
    without the planner having to combine the topic and coverage tables. Nationwide channels are
    found through channel_topic(topic, scope) instead.
    """

    __tablename__ = "channel_reach"
    __table_args__ = (Index("ix_channel_reach_channel", "channel_id"),)

    topic = Column(String(40), primary_key=True)
    municipality_code = Column(String(3), primary_key=True)
    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    scope = Column(String(10), nullable=False)


class ChannelLanguage(Base):
    """A language (ISO 639-1) the channel serves in."""

    __tablename__ = "channel_language"

    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    language = Column(String(8), primary_key=True)


class Address(Base):
    """A visiting or postal address; coordinates converted from ETRS-TM35FIN (EPSG:3067) to WGS84."""

    __tablename__ = "address"

    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    seq = Column(SmallInteger, primary_key=True)
    kind = Column(String(20), nullable=False)
    street = Column(String(300))
    street_number = Column(String(40))
    postal_code = Column(String(10))
    post_office = Column(String(100))
    municipality_code = Column(String(3), ForeignKey("municipality.code"))
    info_fi = Column(String(500))
    northing = Column(Float)
    easting = Column(Float)
    lat = Column(Float)
    lon = Column(Float)


class Phone(Base):
    """A phone number with its PTV charge type (Free, Charged, Other) and charge description."""

    __tablename__ = "phone"

    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    seq = Column(SmallInteger, primary_key=True)
    phone_type = Column(String(20))
    prefix = Column(String(10))
    number = Column(String(40), nullable=False)
    display = Column(String(60), nullable=False)
    charge_type = Column(String(20))
    charge_description = Column(String(300))
    info = Column(String(300))
    language = Column(String(8))


class ServiceHours(Base):
    """A serviceHours entry: weekly (incl. over-midnight spans) or exceptional (dated, possibly closed)."""

    __tablename__ = "service_hours"

    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    seq = Column(SmallInteger, primary_key=True)
    kind = Column(String(16), nullable=False)
    valid_from = Column(Date)
    valid_to = Column(Date)
    is_closed = Column(Boolean, nullable=False, default=False)
    is_always_open = Column(Boolean, nullable=False, default=False)
    is_reservation = Column(Boolean, nullable=False, default=False)
    info_fi = Column(String(500))

    ranges = relationship(
        "OpeningRange", cascade="all, delete-orphan", passive_deletes=True, order_by="OpeningRange.seq"
    )


class OpeningRange(Base):
    """One time range of a serviceHours entry; weekdays 0=Monday, NULL on exceptional entries."""

    __tablename__ = "opening_range"
    __table_args__ = (
        ForeignKeyConstraint(
            ["channel_id", "hours_seq"],
            ["service_hours.channel_id", "service_hours.seq"],
            ondelete="CASCADE",
            name="fk_opening_range_service_hours",
        ),
    )

    channel_id = Column(Integer, primary_key=True)
    hours_seq = Column(SmallInteger, primary_key=True)
    seq = Column(SmallInteger, primary_key=True)
    day_from = Column(SmallInteger)
    day_to = Column(SmallInteger)
    time_from = Column(Time, nullable=False)
    time_to = Column(Time, nullable=False)
