"""Runtime settings read from the environment at the edge (entry points), never at import time."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


# Rasa processes on one machine unless PERHEOPAS_RASA_PROCESSES says otherwise: one per core, at most two. One
# Rasa process uses one core (TensorFlow runs with one thread, below), so a second one on a two-core machine
# roughly doubles what a busy evening can offer before messages queue (bench/LOAD_RESULTS.md). Each costs about
# 1.1 GB of memory; beyond two, scale out to more machines (README "Scaling out").
MAX_DEFAULT_RASA_PROCESSES = 2


def default_rasa_processes() -> int:
    return max(1, min(MAX_DEFAULT_RASA_PROCESSES, os.cpu_count() or 1))


@dataclass(frozen=True)
class Ports:
    """Where the processes listen; defaults are contract 1 in DESIGN.md. Rasa process i listens on rasa + i."""

    actions: int = 5055
    rasa: int = 5005
    web: int = 8000
    rasa_processes: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.rasa_processes <= 16:
            raise ValueError(f"PERHEOPAS_RASA_PROCESSES must be 1-16, not {self.rasa_processes}")

    @property
    def rasa_ports(self) -> list[int]:
        return [self.rasa + index for index in range(self.rasa_processes)]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @classmethod
    def from_env(cls) -> Ports:
        processes = os.environ.get("PERHEOPAS_RASA_PROCESSES", "").strip()
        try:
            count = int(processes) if processes else default_rasa_processes()
        except ValueError:
            raise ValueError(f"PERHEOPAS_RASA_PROCESSES must be a whole number, not {processes!r}") from None
        return cls(
            actions=int(os.environ.get("PERHEOPAS_ACTIONS_PORT", "5055")),
            rasa=int(os.environ.get("PERHEOPAS_RASA_PORT", "5005")),
            web=int(os.environ.get("PERHEOPAS_WEB_PORT", "8000")),
            rasa_processes=count,
        )


def var_dir() -> Path:
    """Runtime state (databases, logs, generated config) lives here and is git-ignored."""
    path = Path(os.environ.get("PERHEOPAS_VAR", REPO_ROOT / "var"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


# Files under var/ hold phone numbers, staff accounts and conversations: readable by the service's user only.
PRIVATE_UMASK = 0o077


def keep_new_files_private() -> None:
    """Make every file this process and its children create (databases, journals, logs) 0600, folders 0700."""
    os.umask(PRIVATE_UMASK)


def private_opener(path: str, flags: int) -> int:
    """An `open(..., opener=)` that creates the file 0600 whatever the umask."""
    return os.open(path, flags, 0o600)


# TensorFlow's own thread pools, per Rasa process while it serves. One thread each: a turn runs small models one
# after another, so more threads only contend with the action server and the web app for this machine's cores
# (bench/LOAD_RESULTS.md). Training keeps TensorFlow's defaults.
SERVING_TF_THREADS = "1"


def rasa_environment(ports: Ports, serving: bool = True) -> dict[str, str]:
    """Environment for every Rasa process: no telemetry, quiet TensorFlow, endpoints resolved, loopback only."""
    env = dict(os.environ)
    if serving:
        env.setdefault("TF_INTER_OP_PARALLELISM_THREADS", SERVING_TF_THREADS)
        env.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", SERVING_TF_THREADS)
    # Rasa and the action server have no authentication of their own: only the web app may reach them.
    env.setdefault("PERHEOPAS_RASA_INTERFACE", "127.0.0.1")
    env.setdefault("SANIC_HOST", "127.0.0.1")  # rasa_sdk's listening address
    # The secret Rasa sends the action server (endpoints.yml) and the action server checks (bot/ops/actions_server.py):
    # one per start of the stack unless the deployment sets its own.
    env.setdefault("PERHEOPAS_ACTIONS_TOKEN", secrets.token_urlsafe(32))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TQDM_DISABLE", "1")
    env.setdefault("PERHEOPAS_ACTIONS_URL", f"http://127.0.0.1:{ports.actions}/webhook")
    env.setdefault("PERHEOPAS_TRACKER_DB", str(var_dir() / "tracker.db"))
    # The web app's gateway finds every local Rasa process; sticky routing keeps each conversation on one process,
    # which the default in-memory lock store needs (bot/web/gateway.py).
    env.setdefault("PERHEOPAS_RASA_URL", ",".join(ports.rasa_urls))
    env.setdefault("PERHEOPAS_RASA_ROUTING", "sticky")
    env["PERHEOPAS_RASA_PROCESSES"] = str(ports.rasa_processes)
    return env
