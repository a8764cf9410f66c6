"""Sealed values: a short text the conversation must carry to a later turn, kept unreadable at rest.

The callback alias is given one turn before the phone number, so Rasa stores it in the tracker between the two.
Stored in the clear it would be personal data at rest; replaced by a placeholder (as before) the contact request
lost its alias. Sealed, the tracker holds only a token that the processes of this stack can open: the key comes
from the secret Rasa and the action server share (PERHEOPAS_ACTIONS_TOKEN), and a token opens only within
SEAL_TTL_SECONDS. A process without the secret gets a key of its own, so its seals open only in that process.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:"
SECRET_ENV = "PERHEOPAS_ACTIONS_TOKEN"
SEAL_TTL_SECONDS = 24 * 3600
_PROCESS_SECRET = secrets.token_bytes(32)


@lru_cache(maxsize=4)
def _fernet(secret: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"perheopas-sealed-v1:" + secret).digest()))


def _key() -> Fernet:
    secret = os.environ.get(SECRET_ENV, "").strip()
    return _fernet(secret.encode() if secret else _PROCESS_SECRET)


def seal(text: str) -> str:
    """A token for `text` that only this stack can open (authenticated encryption, with the time of sealing)."""
    return PREFIX + _key().encrypt(text.encode("utf-8")).decode("ascii")


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def unseal(value: object) -> str | None:
    """The sealed text, or None for anything that is not a token of this stack's key or has expired."""
    if not is_sealed(value):
        return None
    assert isinstance(value, str)
    try:
        return _key().decrypt(value[len(PREFIX):].encode("ascii"), ttl=SEAL_TTL_SECONDS).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        return None
