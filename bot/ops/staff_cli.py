"""`python -m bot staff add-user|reset-2fa|disable-user NAME`: staff console users.

add-user reads the password from stdin (contract 6) and takes `--role worker|coordinator` (a worker by default;
with --replace the role changes only when given); reset-2fa and disable-user end the user's sessions.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.callbacks.staff_store import StaffError, StaffUser, add_user, disable_user, reset_second_factor, utc_now
from core.db import make_engine, make_session_factory


def read_password() -> str:
    """Prompt twice on a terminal; otherwise take the first line of stdin, so scripts can pipe it in."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            raise StaffError("The passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def add_user_command(name: str, replace: bool, role: str | None = None) -> int:
    try:
        password = read_password()
        engine = make_engine()
        try:
            with make_session_factory(engine)() as session:
                user, created = add_user(session, name, password, utc_now(), replace=replace, role=role)
        finally:
            engine.dispose()
    except StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{'Created' if created else 'Updated the password of'} staff user {user.username!r} ({user.role}).")
    return 0


def _change_user(change: Callable[[Session, str, datetime], StaffUser], name: str, done: str) -> int:
    try:
        engine = make_engine()
        try:
            with make_session_factory(engine)() as session:
                user = change(session, name, utc_now())
        finally:
            engine.dispose()
    except StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(done.format(name=user.username))
    return 0


def reset_2fa_command(name: str) -> int:
    return _change_user(reset_second_factor, name,
                        "Reset the second factor of {name!r}; they enrol a new authenticator at the next log-in.")


def disable_user_command(name: str) -> int:
    return _change_user(disable_user, name, "Disabled {name!r} and ended their sessions.")
