"""`python -m bot stats [--json] [--since YYYY-MM-DD]`: the anonymous figures of the dashboard (contract 8)."""

from __future__ import annotations

import json
import sys
from datetime import date

from bot.stats.report import build
from core.clock import now as clock_now
from core.db import make_engine, make_session_factory


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, not {value!r}") from None


def stats_command(as_json: bool, since: str | None = None, until: str | None = None, suppressed: bool = False) -> int:
    try:
        first, last = _day(since, "--since"), _day(until, "--until") or clock_now().date()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    engine = make_engine()
    try:
        with make_session_factory(engine)() as session:
            figures = build(session, last, first)
    finally:
        engine.dispose()
    data = figures.as_dict(suppressed=suppressed)
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    totals = data["totals"]
    print(f"Figures {data['since'] or 'from the first kept day'} to {data['until']}")
    for key, value in totals.items():
        print(f"  {key}: {value if value is not None else '-'}")
    for gap in data["catalogue_gaps"][:10]:
        print(f"  no local service: {gap['topic']} in {gap['municipality']} ({gap['searches']})")
    return 0
