"""End to end (issue 19): conversations through the running stack's web gateway are counted by the actions and
the web app, come out of `python -m bot stats --json`, and leave no text or id in the counters.

The stack is the shared parts (tests/conftest.py `shared_parts`) with the two parts that count, the action server and
the web app, restarted on an evening clock and an empty database of their own: Rasa reads neither, so every count
is this test's and no Rasa process is loaded for it alone.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from parts import Parts
from stack import REPO, prepare_database

pytestmark = [pytest.mark.slow, pytest.mark.model]

SEARCH = "onko Kempeleessä perhekahvilaa"
DANGER = "mun mies lyö mua ja pelkään"
NONSENSE = "qwerty zxcv asdf"
EVENING = "2026-11-24T21:00:00+02:00"
COUNTING = ("actions", "web")


@dataclass
class Stack:
    """The shared parts as this test sees them: the environment the counting parts and `bot stats` run with."""

    parts: Parts
    env: dict[str, str]

    @property
    def web_url(self) -> str:
        return self.parts.web_url

    def stop_counting(self) -> None:
        """Stop the action server and the web app, which write what they still hold as they stop."""
        for name in COUNTING:
            self.parts.procs[name].stop()


@pytest.fixture
def stack(shared_parts: Parts, tmp_path: Path) -> Iterator[Stack]:
    """The shared parts with the action server and the web app on the evening clock and a fresh database (the
    sample catalogue loaded, no counts); both are put back as they were for the other users of the parts."""
    changed = {"PERHEOPAS_NOW": EVENING, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    env = {**shared_parts.env, **changed}
    prepare_database(env)
    before = {name: dict(shared_parts.procs[name].env) for name in COUNTING}
    try:
        for name in COUNTING:
            shared_parts.restart(name, changed)
        yield Stack(shared_parts, env)
    finally:
        for name in COUNTING:
            shared_parts.restart(name, before[name])


def post(stack: Stack, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(stack.web_url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def figures(stack: Stack) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bot", "stats", "--json"], cwd=REPO, env=stack.env,
                          capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_running_stack_counts_anonymously(stack: Stack) -> None:
    sessions = {"search": "stack-stats-search-000001", "danger": "stack-stats-danger-000002",
                "nonsense": "stack-stats-nonsense-0003"}
    status, reply = post(stack, "/api/chat", {"session": sessions["search"], "message": SEARCH})
    assert status == 200, reply
    topics = [m["custom"]["feedback_topic"] for m in reply["messages"] if "feedback_topic" in m.get("custom", {})]
    assert topics == ["kohtaamispaikka"], reply
    assert post(stack, "/api/chat", {"session": sessions["danger"], "message": DANGER})[0] == 200
    for _ in range(2):
        assert post(stack, "/api/chat", {"session": sessions["nonsense"], "message": NONSENSE})[0] == 200
    status, _ = post(stack, "/api/feedback", {"session": sessions["search"], "topic": topics[0],
                                              "rating": "down", "reason": "wrong_info"})
    assert status == 201
    deadline = time.monotonic() + 30
    data = figures(stack)
    # The web app writes its counts every few seconds: wait until the last of them (the feedback) is in.
    while data["totals"]["feedback_down"] < 1 and time.monotonic() < deadline:
        time.sleep(1)
        data = figures(stack)
    database = stack.env["DATABASE_URL"].removeprefix("sqlite:///")
    stack.stop_counting()
    totals = data["totals"]
    assert totals["conversations"] == totals["conversations_after_hours"] == 3
    assert totals["messages"] == 4
    assert data["conversations_by_hour"] == {"21": {"after_hours": 3}}
    assert data["topics_by_week"]["2026-W48"] == {"kohtaamispaikka": 1}
    assert data["municipalities"] == {"Kempele": 1}
    assert data["safety_replies"] == {"danger": 1}
    # The model answers this nonsense with out_of_scope (a static response) or the fallback action, which alone is
    # counted; tests/actions/test_stats_counts.py counts fallbacks through the action itself.
    assert data["feedback_by_topic"] == {"kohtaamispaikka": {"down": 1, "wrong_info": 1}}
    with sqlite3.connect(database) as conn:
        stored = "\n".join(" ".join(map(str, row)) for row in conn.execute("SELECT * FROM stat_counts")).lower()
    assert [s for s in [*sessions.values(), SEARCH, DANGER, NONSENSE, "qwerty", "lyö"] if s.lower() in stored] == []
