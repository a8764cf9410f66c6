"""The hard limit on how long a contact request is kept, whatever its status (S3).

`python -m bot purge` enforces it; the staff console warns about requests that it will delete within a week.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from core import clock

MAX_DAYS_ENV = "PERHEOPAS_CALLBACK_MAX_DAYS"
DEFAULT_MAX_DAYS = 90
WARN_DAYS = 7


def max_days_from_env() -> int:
    """PERHEOPAS_CALLBACK_MAX_DAYS, else 90; anything but a whole number of at least 1 is a configuration error."""
    raw = os.environ.get(MAX_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_DAYS_ENV} must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError(f"{MAX_DAYS_ENV} must be at least 1 day, not {raw!r}")
    return days


def deletion_day(created_at: datetime, max_days: int) -> date:
    """The Helsinki day from which the nightly purge deletes a request made at `created_at`."""
    moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=clock.HELSINKI)
    return (moment + timedelta(days=max_days)).astimezone(clock.HELSINKI).date()


def deleted_soon(created_at: datetime, max_days: int, today: date) -> bool:
    return deletion_day(created_at, max_days) - today <= timedelta(days=WARN_DAYS)
