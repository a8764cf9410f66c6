"""Quiet, fingerprinted Rasa training: progress bars go to a log file, errors reach the console."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from core.settings import REPO_ROOT, Ports, private_opener, rasa_environment, var_dir


def train(out: Path, name: str, config: str = "config.yml", extra: list[str] | None = None) -> int:
    """Train into out/name.tar.gz; print the tail of the log if Rasa fails."""
    log_path = var_dir() / "train.log"
    argv = [
        sys.executable, "-m", "rasa", "train", "--config", config, "--domain", "domain.yml",
        "--data", "data", "--out", str(out), "--fixed-model-name", name, *(extra or []),
    ]
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8", opener=private_opener) as log_file:
        result = subprocess.run(
            argv, cwd=REPO_ROOT, env=rasa_environment(Ports.from_env(), serving=False),
            stdout=log_file, stderr=subprocess.STDOUT, check=False,
        )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-60:]
        print("\n".join(tail), file=sys.stderr)
        print(f"Training failed (exit {result.returncode}); full log in {log_path}", file=sys.stderr)
        return result.returncode
    # Rasa keeps the old file when its own fingerprint says nothing changed; touch it so make sees it fresh.
    (out / f"{name}.tar.gz").touch()
    print(f"Model trained in {elapsed:.0f} s: {out / (name + '.tar.gz')}")
    return 0
