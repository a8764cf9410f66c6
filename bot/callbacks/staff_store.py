"""Storage for the staff console: users with argon2 hashes and TOTP secrets, server-side sessions, the audit log.

Every function takes a SQLAlchemy session and the current time from its caller, so tests control both.
Times in these tables are stored in UTC; SQLite returns them naive, and `as_utc` puts the zone back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.callbacks.models import AuditLog, CallbackRequest, StaffSession, StaffUser
from bot.callbacks.vocabulary import COORDINATOR, STAFF_ROLES, WORKER

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
MAX_NOTE_CHARS = 2000
TOTP_ISSUER = "Perheopas"
TOTP_DIGITS = 6
# Refusals (wrong password or code, lock-outs, addresses outside the allowlist) are what a stranger can make us
# write, so the log keeps only the newest of them; staff's own actions are not capped.
REFUSALS = frozenset({"login_failed", "code_failed", "login_blocked", "login_disabled", "not_allowed"})
MAX_REFUSAL_ROWS = 10_000

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
    stage: str = "full"  # "pending": the password is proven, the second factor is not yet
    role: str = WORKER

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR


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


def add_user(db: Session, name: str, password: str, now: datetime, replace: bool = False,
             role: str | None = None) -> tuple[StaffUser, bool]:
    """Create a user (a worker unless `role` says otherwise), or with `replace` set a new password, and the role
    if one is given, for an existing one; returns (user, created)."""
    name = validate_username(name)
    validate_password(password)
    if role is not None and role not in STAFF_ROLES:
        raise StaffError(f"A role is one of {', '.join(STAFF_ROLES)}, not {role!r}.")
    password_hash = _hasher.hash(password)
    user = db.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    if user is not None:
        if not replace:
            raise StaffError(f"User {name!r} exists already; use --replace to set a new password.")
        user.password_hash = password_hash
        user.disabled = False
        if role is not None:
            user.role = role
        # A new password logs out every browser that used the old one.
        db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        created = False
    else:
        user = StaffUser(username=name, password_hash=password_hash, created_at=as_utc(now), disabled=False,
                         role=role or WORKER)
        db.add(user)
        created = True
    db.flush()
    record(db, name, "user_added" if created else "password_set", now, detail=user.role)
    db.commit()
    return user, created


def password_record(db: Session, name: str) -> StaffUser | None:
    """The account a log-in names, if the name is well-formed and exists; the hash is verified elsewhere."""
    if not USERNAME.match(name):
        return None
    return db.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()


def verify_password(stored: str | None, password: str) -> bool:
    """argon2 verification; an unknown user (None) costs as much as a wrong password, so timing tells nothing."""
    if len(password) > MAX_PASSWORD_CHARS:
        stored, password = _DUMMY_HASH, ""
    try:
        return bool(_hasher.verify(stored or _DUMMY_HASH, password)) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def set_password_hash(db: Session, user_id: int, password: str) -> None:
    """Store a fresh hash after the hasher's parameters changed (the password was just verified)."""
    db.execute(update(StaffUser).where(StaffUser.id == user_id).values(password_hash=_hasher.hash(password)))
    db.commit()


def check_password(db: Session, name: str, password: str) -> StaffUser | None:
    """The user if the name and password match an enabled account, else None (same cost either way)."""
    user = password_record(db, name)
    if not verify_password(user.password_hash if user is not None else None, password):
        return None
    if user is None or user.disabled:
        return None
    if needs_rehash(user.password_hash):
        set_password_hash(db, user.id, password)
    return user


# --- the second factor (TOTP, RFC 6238) ---------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second time step whose code this is, allowing one step of clock drift either way; else None."""
    code = code.replace(" ", "").strip()
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(as_utc(now))
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _claim_step(db: Session, user_id: int, step: int, **values: object) -> bool:
    # A conditional update: of two requests racing with one code, only one moves the step on.
    result = db.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id, StaffUser.disabled.is_(False),
               or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step, **values)
    )
    return result.rowcount == 1


def use_code(db: Session, user_id: int, code: str, now: datetime) -> bool:
    """True if the code is the enrolled user's current one and was not used before (no replay in its window)."""
    user = db.get(StaffUser, user_id)
    if user is None or not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code, now)
    accepted = step is not None and _claim_step(db, user_id, step)
    db.commit()
    return accepted


def confirm_enrolment(db: Session, user_id: int, secret: str, code: str, now: datetime) -> bool:
    """Make `secret` the user's second factor once they prove their app produces its codes."""
    step = matching_step(secret, code, now)
    user = db.get(StaffUser, user_id)
    if step is None or user is None or user.totp_secret is not None:
        return False
    if not _claim_step(db, user_id, step, totp_secret=secret):
        db.rollback()
        return False
    record(db, user.username, "totp_enrolled", now)
    db.commit()
    return True


def _existing_user(db: Session, name: str) -> StaffUser:
    user = db.execute(select(StaffUser).where(StaffUser.username == name.strip().lower())).scalar_one_or_none()
    if user is None:
        raise StaffError(f"There is no staff user {name!r}.")
    return user


def reset_second_factor(db: Session, name: str, now: datetime) -> StaffUser:
    """Forget a user's second factor (a lost phone) and end their sessions; they enrol again at the next log-in."""
    user = _existing_user(db, name)
    user.totp_secret = None
    user.totp_last_step = None
    db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    record(db, user.username, "totp_reset", now)
    db.commit()
    return user


def disable_user(db: Session, name: str, now: datetime) -> StaffUser:
    """Stop a user from logging in and end every session they have (`add-user --replace` enables them again)."""
    user = _existing_user(db, name)
    user.disabled = True
    db.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    record(db, user.username, "user_disabled", now)
    db.commit()
    return user


def create_session(db: Session, user: StaffUser, now: datetime, lifetime: timedelta, stage: str = "full",
                   enrol_secret: str | None = None) -> tuple[str, LoggedIn]:
    """Start a session; returns the cookie token (never stored) and who is logged in."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = as_utc(now)
    db.add(StaffSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf, stage=stage,
                        enrol_secret=enrol_secret, created_at=now, last_seen_at=now, expires_at=now + lifetime))
    # Expired sessions are swept on each log-in, so the table stays small without a separate job.
    db.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    db.commit()
    return token, LoggedIn(user.id, user.username, csrf, stage, user.role or WORKER)


def pending_second_factor(db: Session, token: str) -> tuple[StaffUser, str | None] | None:
    """For a pending session: its user and the secret being enrolled (None when the user has a factor already)."""
    row = db.execute(
        select(StaffUser, StaffSession.enrol_secret)
        .join(StaffSession, StaffSession.user_id == StaffUser.id)
        .where(StaffSession.token_hash == hash_token(token), StaffSession.stage == "pending")
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


def complete_login(db: Session, pending_token: str, user: StaffUser, now: datetime,
                   lifetime: timedelta) -> tuple[str, LoggedIn]:
    """Replace the pending session by a full one with a new token, so no value seen before the code opens it."""
    db.execute(delete(StaffSession).where(StaffSession.token_hash == hash_token(pending_token)))
    record(db, user.username, "login", now)
    return create_session(db, user, now, lifetime)


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
    return LoggedIn(user.id, user.username, session.csrf_token, session.stage, user.role or WORKER)


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


def refusal(db: Session, username: str, action: str, now: datetime, keep: int = MAX_REFUSAL_ROWS) -> None:
    """Log a refused request with no address, password or code, keeping only the newest `keep` refusals.

    A name is kept only if it is an account's: what someone typed into the name field may be their password.
    """
    assert action in REFUSALS, action
    known = username != "-" and password_record(db, username) is not None
    row = AuditLog(at=as_utc(now), username=username[:60] if known else "-", action=action)
    db.add(row)
    db.flush()
    # Trimming costs a query, so it runs on about one refusal in a hundred; the cap overshoots by at most 1 %.
    if row.id % max(1, keep // 100) == 0:
        newest = (select(AuditLog.id).where(AuditLog.action.in_(REFUSALS))
                  .order_by(AuditLog.id.desc()).offset(keep).limit(1).scalar_subquery())
        db.execute(delete(AuditLog).where(AuditLog.action.in_(REFUSALS), AuditLog.id <= func.coalesce(newest, 0))
                   .execution_options(synchronize_session=False))
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
