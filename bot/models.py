"""Tables the bot owns in the application database: contact requests (callbacks)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Column, Date, DateTime, Index, String, Text

from catalog.db import Base

CALLBACK_STATUSES = ("new", "claimed", "done")


def _new_id() -> str:
    return uuid.uuid4().hex


class CallbackRequest(Base):
    """A parent's consented request to be called or texted back by family-centre staff."""

    __tablename__ = "callback_requests"

    id = Column(String(32), primary_key=True, default=_new_id)
    created_at = Column(DateTime(timezone=True), nullable=False)
    topic = Column(String(40), nullable=False)
    contact_method = Column(String(10), nullable=False)  # "call" or "sms"
    phone = Column(String(20), nullable=False)  # E.164, e.g. +358401234567
    time_window = Column(String(20), nullable=False)
    alias = Column(String(40))
    municipality = Column(String(60))
    urgent = Column(Boolean, nullable=False, default=False)
    consent_at = Column(DateTime(timezone=True), nullable=False)
    consent_notice_version = Column(String(20), nullable=False)
    callback_due = Column(Date, nullable=False)
    status = Column(String(10), nullable=False, default="new")
    claimed_by = Column(String(60))
    claimed_at = Column(DateTime(timezone=True))
    done_at = Column(DateTime(timezone=True))
    note = Column(Text)

    __table_args__ = (Index("ix_callback_requests_status_created", "status", "created_at"),)
