"""The one place that reads the wall clock (contract 5: PERHEOPAS_NOW overrides it for tests and demos)."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


def now() -> datetime:
    """Current time as an aware Europe/Helsinki datetime, or PERHEOPAS_NOW (ISO 8601 with offset) if set."""
    override = os.environ.get("PERHEOPAS_NOW", "").strip()
    if override:
        try:
            parsed = datetime.fromisoformat(override.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"PERHEOPAS_NOW is not an ISO 8601 datetime: {override!r}") from exc
        if parsed.tzinfo is None:
            raise ValueError(f"PERHEOPAS_NOW needs a UTC offset, e.g. 2025-03-04T10:00:00+02:00: {override!r}")
        return parsed.astimezone(HELSINKI)
    return datetime.now(HELSINKI)
