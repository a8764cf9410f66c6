"""The callback queue: durable contact requests and the state changes staff make to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.callbacks.models import CallbackRequest
from bot.callbacks.vocabulary import CALLBACK_STATUSES, LANGUAGES


@dataclass(frozen=True)
class NewCallback:
    """What the contact-request form collected, after validation and explicit consent."""

    topic: str
    contact_method: str
    phone_e164: str
    time_window: str
    callback_due: date
    consent_notice_version: str
    alias: str | None = None
    municipality: str | None = None
    urgent: bool = False
    # Violence topic only (S9): when contact is safe, and whether a message may be left if unanswered.
    safe_time: str | None = None
    may_leave_message: bool | None = None
    language: str = "fi"  # the language the person wrote in (contract 6; S10)


def create_callback(session: Session, request: NewCallback, now: datetime) -> CallbackRequest:
    """Store a request and commit; callers confirm to the user only after this returns (S3, no lost requests)."""
    row = CallbackRequest(
        created_at=now,
        topic=request.topic,
        contact_method=request.contact_method,
        phone=request.phone_e164,
        time_window=request.time_window,
        alias=request.alias,
        municipality=request.municipality,
        urgent=request.urgent,
        safe_time=request.safe_time,
        may_leave_message=request.may_leave_message,
        language=request.language,
        consent_at=now,
        consent_notice_version=request.consent_notice_version,
        callback_due=request.callback_due,
        status="new",
    )
    session.add(row)
    session.commit()
    return row


def list_callbacks(session: Session, status: str | None = None,
                   language: str | None = None) -> Sequence[CallbackRequest]:
    """Requests, urgent first then oldest first; optionally of one status and one language (fi, sv, en)."""
    query = select(CallbackRequest).order_by(CallbackRequest.urgent.desc(), CallbackRequest.created_at)
    if status is not None:
        if status not in CALLBACK_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        query = query.where(CallbackRequest.status == status)
    if language is not None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        matches = CallbackRequest.language == language
        if language == "fi":  # rows from before languages were stored are Finnish
            matches = or_(matches, CallbackRequest.language.is_(None))
        query = query.where(matches)
    return session.execute(query).scalars().all()


def claim_callback(session: Session, callback_id: str, staff: str, now: datetime) -> bool:
    """Atomically move a new request to claimed; False if someone else got it first."""
    result = session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == "new")
        .values(status="claimed", claimed_by=staff, claimed_at=now)
    )
    session.commit()
    return result.rowcount == 1


def complete_callback(session: Session, callback_id: str, staff: str, note: str | None, now: datetime) -> bool:
    """Mark a request claimed by this staff member done; False if it is not theirs or not claimed."""
    result = session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == "claimed",
               CallbackRequest.claimed_by == staff)
        .values(status="done", done_at=now, note=note)
    )
    session.commit()
    return result.rowcount == 1


def callback_as_dict(row: CallbackRequest) -> dict[str, object]:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "topic": row.topic,
        "contact_method": row.contact_method,
        "phone": row.phone,
        "time_window": row.time_window,
        "alias": row.alias,
        "municipality": row.municipality,
        "urgent": row.urgent,
        "safe_time": row.safe_time,
        "may_leave_message": row.may_leave_message,
        # Rows from before the language column were all written in Finnish.
        "language": row.language or "fi",
        "consent_at": row.consent_at.isoformat() if row.consent_at else None,
        "consent_notice_version": row.consent_notice_version,
        "callback_due": row.callback_due.isoformat() if row.callback_due else None,
        "status": row.status,
        "claimed_by": row.claimed_by,
        "note": row.note,
    }
