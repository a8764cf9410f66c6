"""The one counter table: how many times something happened on a Helsinki day, by at most two keys."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, String, UniqueConstraint

from core.db import Base


class StatCount(Base):
    """A daily counter, e.g. (2026-12-01, "search", "kohtaamispaikka", "Kempele") = 7.

    The keys hold only values from fixed vocabularies (topics, municipality names, hours, routes, reasons), never
    what a person wrote; empty strings rather than NULL, so that the unique key makes upserts work everywhere.
    """

    __tablename__ = "stat_counts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    day = Column(Date, nullable=False)
    metric = Column(String(40), nullable=False)
    key1 = Column(String(80), nullable=False, default="", server_default="")
    key2 = Column(String(80), nullable=False, default="", server_default="")
    count = Column(Integer, nullable=False, default=0, server_default="0")

    __table_args__ = (UniqueConstraint("day", "metric", "key1", "key2", name="uq_stat_counts_day_metric_keys"),)
