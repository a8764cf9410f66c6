"""The load benchmark in its short mode (bench/load.py --short), and the Rasa speed-up it relies on.

The short run checks that the benchmark works end to end and that a busy evening passes without errors; the
latency and throughput goals are judged on the full run (bench/LOAD_RESULTS.md), since a one-minute run on a
shared CI machine is too noisy to fail a build on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from stack import REPO

GOOD_REPLIES = [
    {"events": [{"event": "slot", "name": "municipality", "value": "Oulu"}], "responses": [{"text": "Hei"}]},
    {"events": [], "responses": []},
    {"events": [{"event": "action", "name": "action_listen"}], "responses": [{"text": "x", "buttons": []}]},
]
BAD_REPLIES = [{"events": "nope"}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": 42}]}]


def _outcome(action: object, reply: dict[str, object]) -> str:
    try:
        action._validate_action_result(reply)  # type: ignore[attr-defined]
        return "ok"
    except jsonschema.ValidationError as error:
        return f"invalid: {error.message}"


def test_action_reply_validation_speed_up_keeps_rasa_behaviour() -> None:
    from rasa.core.actions.action import RemoteAction

    from bot import rasa_speedups

    action = RemoteAction.__new__(RemoteAction)
    original = RemoteAction._validate_action_result
    before = [_outcome(action, reply) for reply in GOOD_REPLIES + BAD_REPLIES]
    try:
        assert rasa_speedups.apply()
        assert rasa_speedups.apply()  # idempotent
        after = [_outcome(action, reply) for reply in GOOD_REPLIES + BAD_REPLIES]
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
    assert after == before
    assert before[: len(GOOD_REPLIES)] == ["ok"] * len(GOOD_REPLIES)
    assert all(outcome.startswith("invalid") for outcome in before[len(GOOD_REPLIES):])


@pytest.mark.slow
def test_short_load_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "bench/load.py", "--short", "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)
    result = json.loads(out.read_text(encoding="utf-8"))
    evening, ours, reference = result["busy_evening"], result["saturation"], result["reference"]
    assert evening["messages"] >= 50 and evening["errors"] == 0, evening
    assert ours["messages"] > 0 and ours["errors"] == 0, ours
    assert reference["messages"] > 0 and reference["errors"] == 0, reference
    assert result["ratio"] > 0
    for name in ("actions", "rasa", "web", "moodbot rasa (reference)", "load generator"):
        assert result["peak_rss_mib"][name] > 0, name
    for key in ("p50", "p95", "p99"):
        assert f"{key} ms" in result["report"]
