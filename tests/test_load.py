"""The load benchmark in its short mode (bench/load.py --short).

The short run checks that the benchmark works end to end and that a busy evening passes without errors; the
latency and throughput goals are judged on the full run (bench/LOAD_RESULTS.md), since a one-minute run on a
shared CI machine is too noisy to fail a build on. It runs one Rasa process and one moodbot (the full run runs
two of each, as `make run` does): each Rasa process costs the test about 20 s to load, and routing between several
is tested in tests/test_scale_out.py. The speed-ups Rasa runs with are tested in tests/test_rasa_speedups.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stack import REPO


@pytest.mark.slow
@pytest.mark.model
def test_short_load_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "bench/load.py", "--short", "--rasa-processes", "1", "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)
    result = json.loads(out.read_text(encoding="utf-8"))
    evening, ours, reference = result["busy_evening"], result["saturation"], result["reference"]
    assert evening["messages"] >= 50 and evening["errors"] == 0, evening
    assert ours["messages"] > 0 and ours["errors"] == 0, ours
    assert reference["messages"] > 0 and reference["errors"] == 0, reference
    assert result["ratio"] > 0
    # Ours and the reference alternated (ABBA), one ratio per round, both sides measured in each.
    assert len(result["round_ratios"]) == result["settings"]["rounds"] == 2
    assert all(ratio > 0 for ratio in result["round_ratios"]), result["round_ratios"]
    processes = result["settings"]["rasa_processes"]
    assert processes == 1
    rasa_names = ["rasa", *(f"rasa-{i}" for i in range(2, processes + 1))]
    moodbot_names = [f"moodbot-{i} (reference)" for i in range(1, processes + 1)]
    for name in ("actions", "web", *rasa_names, *moodbot_names, "load generator"):
        assert result["peak_rss_mib"][name] > 0, name
    # The load generator is a small asyncio client; a figure near Rasa's would mean it measured someone else.
    assert result["peak_rss_mib"]["load generator"] < 500, result["peak_rss_mib"]
    for key in ("p50", "p95", "p99"):
        assert f"{key} ms" in result["report"]
    assert "ABBA" in result["report"]
