"""Quiet, fingerprinted Rasa training: progress bars go to a log file, errors reach the console.

Rasa keeps a training cache: every node of its training graph is stored under a fingerprint of its class, its
config and its inputs, and a later training reuses the nodes whose fingerprint is unchanged (new stories retrain
the dialogue policies, not DIET). By default that cache lies in the working copy (``.rasa/cache``), so every clean
clone trained everything again. It now lies in the user's cache folder, shared by every clone on the machine.

Rasa's fingerprint does not see code: a changed tokenizer would be served from outputs of the old one. So the
cache has one folder per version of everything outside Rasa's own fingerprint that training depends on (the
code of the components that learn or shape the training data, through its imports, and the Python and Voikko
versions): any change there starts an empty folder, which is a full training, as before. The components that
only act when a message is parsed (the safety override, the municipality normaliser) are left out: a change to
the safety triage reruns training (make sees an input change) and finds every node in the cache.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.ops.train_inputs import training_code
from core.settings import REPO_ROOT, Ports, private_opener, rasa_environment, var_dir

#: Where the shared cache lies: `off` keeps Rasa's default (`.rasa/cache` in the working copy).
CACHE_SETTING = "PERHEOPAS_TRAINING_CACHE"
#: Cache folders kept: the newest few versions of the code (each up to a few hundred MB).
CACHE_VERSIONS_KEPT = 3
#: Debian packages whose version changes what the tokenizer makes of the training data.
VOIKKO_PACKAGES = ("libvoikko1", "voikko-fi")


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """A digest of what training depends on that Rasa's own fingerprint cannot see."""
    digest = hashlib.sha256()
    digest.update(f"python {platform.python_version()}\n".encode())
    digest.update(f"debian {_debian_versions(VOIKKO_PACKAGES)}\n".encode())
    for path in training_code(root):
        name = path.relative_to(root).as_posix()
        digest.update(f"{name} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()[:16]


def _debian_versions(packages: tuple[str, ...]) -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Package}=${Version} ", *packages],
                              capture_output=True, text=True, check=False, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def training_cache_dir(root: Path = REPO_ROOT) -> Path | None:
    """This code's folder of the shared training cache, or None when the cache is left where Rasa puts it."""
    setting = os.environ.get(CACHE_SETTING, "")
    if setting == "off":
        return None
    base = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if not setting:
        base = base / "perheopas" / "rasa-training"
    return base / code_fingerprint(root)


def prune_cache(folder: Path, keep: int = CACHE_VERSIONS_KEPT) -> list[Path]:
    """Mark this folder used and delete all but the `keep` most recently used versions beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)
    versions = sorted((p for p in folder.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                      reverse=True)
    removed = versions[keep:]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


def train(out: Path, name: str, config: str = "config.yml", extra: list[str] | None = None) -> int:
    """Train into out/name.tar.gz; print the tail of the log if Rasa fails."""
    log_path = var_dir() / "train.log"
    argv = [
        sys.executable, "-m", "rasa", "train", "--config", config, "--domain", "domain.yml",
        "--data", "data", "--out", str(out), "--fixed-model-name", name, *(extra or []),
    ]
    env = rasa_environment(Ports.from_env(), serving=False)
    cache = training_cache_dir() if config == "config.yml" and "RASA_CACHE_DIRECTORY" not in env else None
    if cache is not None:
        prune_cache(cache)
        env["RASA_CACHE_DIRECTORY"] = str(cache)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8", opener=private_opener) as log_file:
        result = subprocess.run(argv, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-60:]
        print("\n".join(tail), file=sys.stderr)
        print(f"Training failed (exit {result.returncode}); full log in {log_path}", file=sys.stderr)
        return result.returncode
    # Rasa keeps the old file when its own fingerprint says nothing changed; touch it so make sees it fresh.
    (out / f"{name}.tar.gz").touch()
    where = f"; training cache {cache}" if cache else ""
    print(f"Model trained in {elapsed:.0f} s: {out / (name + '.tar.gz')}{where}")
    return 0
