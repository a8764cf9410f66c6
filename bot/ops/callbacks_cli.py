"""`python -m bot callbacks list`: the staff's command-line view of the queue (contract 6)."""

from __future__ import annotations

import json
import sys

from bot.callbacks.queue import callback_as_dict, list_callbacks
from core.db import make_engine, make_session_factory


def list_command(as_json: bool, status: str | None) -> int:
    engine = make_engine()
    try:
        with make_session_factory(engine)() as session:
            rows = [callback_as_dict(r) for r in list_callbacks(session, status)]
    finally:
        engine.dispose()
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("No contact requests.")
    for row in rows:
        urgent = " KIIREELLINEN" if row["urgent"] else ""
        safety = ""
        if row["may_leave_message"] is not None or row["safe_time"]:
            # S9: when contact is safe and whether a message may be left, for the violence topic.
            message = "saa jättää viestin" if row["may_leave_message"] else "EI VIESTIÄ"
            safety = f"  turvallinen aika: {row['safe_time'] or row['time_window']}; {message}"
        print(f"{row['id']}  {row['status']:<8} {row['created_at']}  {row['topic']:<20} "
              f"{row['contact_method']:<5} {row['language']}  {row['phone']}  {row['time_window']}  "
              f"due {row['callback_due']}{urgent}{safety}")
    return 0
