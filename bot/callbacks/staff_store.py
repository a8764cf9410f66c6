"""Storage for the staff console: users with argon2 hashes, server-side sessions and the audit log.

Every function takes a SQLAlchemy session and the current time from its caller, so tests control both.
Times in these tables are stored in UTC; SQLite returns them naive, and `as_utc` puts the zone back.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.callbacks.models import AuditLog, CallbackRequest, StaffSession, StaffUser

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
MAX_NOTE_CHARS = 2000

_hasher = PasswordHasher()
# Verified when the user does not exist, so a login takes as long for unknown names as for wrong passwords.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A staff-account request that cannot be fulfilled; the message is shown to the administrator."""


@dataclass(frozen=True)
class LoggedIn:
    """The staff member behind a valid session cookie."""

    user_id: int
    username: str
    csrf_token: str


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate_username(name: str) -> str:
    name = name.strip().lower()
    if not USERNAME.match(name):
        raise StaffError("A username is 2-60 characters: lower-case letters a-z, digits, '.', '_' or '-'.")
    return name


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"The password must have at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise StaffError(f"The password must have at most {MAX_PASSWORD_CHARS} characters.")
    return password


def add_user(db: Session, name: str, password: str, now: datetime, replace: bool = False) -> tuple[StaffUser, bool]:
    """Create a user, or with `replace` set a new password for an existing one; returns (user, created)."""
    name = validate_username(name)
    validate_password(password)
    password_hash = _hasher.hash(password)
    user = db.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    if user is not None:
        if not replace:
            raise StaffError(f"User {name!r} exists already; use --replace to set a new password.")
        user.password_hash = password_hash
        user.disabled = False
        # A new password logs out every browser that used the old one.
        db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        created = False
    else:
        user = StaffUser(username=name, password_hash=password_hash, created_at=as_utc(now), disabled=False)
        db.add(user)
        created = True
    db.flush()
    record(db, name, "user_added" if created else "password_set", now)
    db.commit()
    return user, created


def check_password(db: Session, name: str, password: str) -> StaffUser | None:
    """The user if the name and password match an enabled account, else None (same cost either way)."""
    user = None
    if USERNAME.match(name) and len(password) <= MAX_PASSWORD_CHARS:
        user = db.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
        db.commit()
    return user


def create_session(db: Session, user: StaffUser, now: datetime, lifetime: timedelta) -> tuple[str, LoggedIn]:
    """Start a session; returns the cookie token (never stored) and who is logged in."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = as_utc(now)
    db.add(StaffSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf,
                        created_at=now, last_seen_at=now, expires_at=now + lifetime))
    # Expired sessions are swept on each log-in, so the table stays small without a separate job.
    db.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    db.commit()
    return token, LoggedIn(user.id, user.username, csrf)


def load_session(db: Session, token: str, now: datetime, idle: timedelta) -> LoggedIn | None:
    """The staff member for a cookie token, or None if unknown, expired, idle too long or the user is disabled."""
    if not token or len(token) > 100:
        return None
    now = as_utc(now)
    row = db.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        return None
    session, user = row
    if user.disabled or as_utc(session.expires_at) <= now or as_utc(session.last_seen_at) + idle <= now:
        db.execute(delete(StaffSession).where(StaffSession.token_hash == session.token_hash))
        db.commit()
        return None
    # Touch at most once a minute: a page view should not always be a write.
    if now - as_utc(session.last_seen_at) > timedelta(minutes=1):
        session.last_seen_at = now
        db.commit()
    return LoggedIn(user.id, user.username, session.csrf_token)


def end_session(db: Session, token: str) -> None:
    db.execute(delete(StaffSession).where(StaffSession.token_hash == hash_token(token)))
    db.commit()


def record(db: Session, username: str, action: str, now: datetime, callback_id: str | None = None,
           detail: str | None = None) -> None:
    """Add an audit entry; the caller commits (together with the change it describes, when there is one)."""
    db.add(AuditLog(at=as_utc(now), username=username[:60], action=action, callback_id=callback_id,
                    detail=detail[:200] if detail else None))


def audit(db: Session, username: str, action: str, now: datetime, callback_id: str | None = None,
          detail: str | None = None) -> None:
    record(db, username, action, now, callback_id, detail)
    db.commit()


def recent_audit(db: Session, limit: int = 200) -> Sequence[AuditLog]:
    return db.execute(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)).scalars().all()


def save_note(db: Session, callback_id: str, username: str, note: str) -> bool:
    """Store a working note on a request this staff member has claimed; False if it is not theirs."""
    result = db.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == "claimed",
               CallbackRequest.claimed_by == username)
        .values(note=note[:MAX_NOTE_CHARS] or None)
    )
    db.commit()
    return result.rowcount == 1


def get_callback(db: Session, callback_id: str) -> CallbackRequest | None:
    return db.get(CallbackRequest, callback_id)
