"""Tables the bot owns in the application database: contact requests (callbacks) and the staff console."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text

from bot.callbacks.vocabulary import CALLBACK_STATUSES
from core.db import Base

__all__ = ["CALLBACK_STATUSES", "CallbackRequest", "StaffUser"]


def _new_id() -> str:
    return uuid.uuid4().hex


class CallbackRequest(Base):
    """A parent's consented request to be called or texted back by family-centre staff."""

    __tablename__ = "callback_requests"

    id = Column(String(32), primary_key=True, default=_new_id)
    created_at = Column(DateTime(timezone=True), nullable=False)
    topic = Column(String(40), nullable=False)
    contact_method = Column(String(10), nullable=False)  # vocabulary.CONTACT_METHODS
    phone = Column(String(20), nullable=False)  # E.164, e.g. +358401234567
    time_window = Column(String(20), nullable=False)
    alias = Column(String(40))
    municipality = Column(String(60))
    urgent = Column(Boolean, nullable=False, default=False)
    # S9, violence topic only (NULL otherwise and in rows from before migration 0005): when a call or message
    # is safe, as the person said it, and whether a voicemail or reminder text may be left if unanswered.
    safe_time = Column(String(80))
    may_leave_message = Column(Boolean)
    language = Column(String(5))  # fi, sv or en (contract 6); NULL in old rows, which were all Finnish
    consent_at = Column(DateTime(timezone=True), nullable=False)
    consent_notice_version = Column(String(20), nullable=False)
    callback_due = Column(Date, nullable=False)
    status = Column(String(10), nullable=False, default="new")
    claimed_by = Column(String(60))
    claimed_at = Column(DateTime(timezone=True))
    done_at = Column(DateTime(timezone=True))
    note = Column(Text)

    __table_args__ = (Index("ix_callback_requests_status_created", "status", "created_at"),)


class StaffUser(Base):
    """A family-centre worker who may log in to the staff console; created by `python -m bot staff add-user`."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(60), nullable=False, unique=True)
    password_hash = Column(String(200), nullable=False)  # argon2id, PHC string format
    created_at = Column(DateTime(timezone=True), nullable=False)
    disabled = Column(Boolean, nullable=False, default=False)
    # The TOTP second factor (RFC 6238, base32). NULL until the user has enrolled: the next log-in asks them to.
    totp_secret = Column(String(64))
    # The last 30-second time step whose code was accepted, so a code seen over a shoulder cannot be replayed.
    totp_last_step = Column(Integer)
    # vocabulary.STAFF_ROLES: a worker handles the queue; a coordinator also sees the anonymous figures.
    role = Column(String(20), nullable=False, default="worker", server_default="worker")


class StaffSession(Base):
    """A logged-in browser. Only a SHA-256 of the cookie token is stored, so a database leak opens no session."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    last_seen_at = Column(DateTime(timezone=True), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    # "full" opens the console; "pending" only proves the password and may do nothing but the second factor.
    stage = Column(String(10), nullable=False, default="full", server_default="full")
    # A pending session of a user without a second factor carries the secret being enrolled until it is confirmed.
    enrol_secret = Column(String(64))


class AuditLog(Base):
    """One staff action (log-ins, views of the queue, claims, notes, completions); never a phone number."""

    __tablename__ = "staff_audit_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime(timezone=True), nullable=False)
    username = Column(String(60), nullable=False)
    action = Column(String(30), nullable=False)
    callback_id = Column(String(32))
    detail = Column(String(200))

    __table_args__ = (Index("ix_staff_audit_log_at", "at"),)
