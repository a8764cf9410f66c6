"""`python -m bot staff add-user NAME`: create a staff console user; the password comes from stdin (contract 6)."""

from __future__ import annotations

import getpass
import sys

from bot.callbacks.staff_store import StaffError, add_user, utc_now
from core.db import make_engine, make_session_factory


def read_password() -> str:
    """Prompt twice on a terminal; otherwise take the first line of stdin, so scripts can pipe it in."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            raise StaffError("The passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def add_user_command(name: str, replace: bool) -> int:
    try:
        password = read_password()
        engine = make_engine()
        try:
            with make_session_factory(engine)() as session:
                user, created = add_user(session, name, password, utc_now(), replace=replace)
        finally:
            engine.dispose()
    except StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{'Created' if created else 'Updated the password of'} staff user {user.username!r}.")
    return 0
