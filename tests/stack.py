"""Starts the real stack (actions, Rasa with the trained model, web app) on free ports for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "perheopas.tar.gz"
T = TypeVar("T")


def free_port(count: int = 1) -> int:
    """A free port on loopback; with count > 1 the first of that many free ports in a row (port, port + 1, ...)."""
    return free_ports(count)[0]


def free_ports(*counts: int) -> list[int]:
    """Distinct free loopback ports, one per count (a count above 1 asks for that many in a row).

    Every chosen port stays bound until all are chosen: asked one at a time, the kernel may hand the same port out
    twice, and a stack whose web port is its action server's answers the chat with the action server's 403.
    Under pytest-xdist each worker takes only ports of its own blocks (worker_owns), so two workers never choose
    the same port while a server has yet to bind it (Rasa binds only once its model is loaded).
    """
    held: list[socket.socket] = []
    try:
        chosen = [_hold_run(count, held) for count in counts]
    finally:
        for sock in held:
            sock.close()
    return chosen


PORT_BLOCK = 64


def worker_owns(port: int, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this pytest-xdist worker may use `port`: blocks of PORT_BLOCK ports are dealt out to the workers in
    turn (gw0 the first, gw1 the second, ...); outside xdist every port is ours."""
    worker, count = environ.get("PYTEST_XDIST_WORKER", ""), int(environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count < 2:
        return True
    return port // PORT_BLOCK % count == int(worker[2:]) % count


def _hold_run(count: int, held: list[socket.socket]) -> int:
    others: list[socket.socket] = []  # ports not for this run, held meanwhile so that the kernel offers new ones
    try:
        for _ in range(200):
            first = socket.socket()
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if not (worker_owns(port) and port // PORT_BLOCK == (port + count - 1) // PORT_BLOCK):
                others.append(first)
                continue
            run = [first]
            for offset in range(1, count):
                sock = _bound(port + offset)
                if sock is None:
                    break
                run.append(sock)
            if len(run) == count:
                held.extend(run)
                return port
            for sock in run:
                sock.close()
    finally:
        for sock in others:
            sock.close()
    raise RuntimeError(f"found no {count} free ports in a row")


def _bound(port: int) -> socket.socket | None:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


@dataclass
class Stack:
    """A running stack: its ports, environment and the supervisor process."""

    actions_port: int
    rasa_port: int
    web_port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def say(self, sender: str, message: str, timeout: float = 30.0) -> list[dict[str, object]]:
        """Send a message over Rasa's REST channel and return the bot's replies."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read())

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def prepare_database(env: dict[str, str]) -> None:
    """Migrate a fresh application database and load the sample catalogue into it."""
    for args in (["migrate"], ["load-sample", "--if-empty"]):
        subprocess.run([sys.executable, "-m", "catalog", *args], env=env, check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)


#: Set by tests/conftest.py before each test runs: whether it is marked `model` (None outside pytest, e.g. bench/).
model_marked: bool | None = None


def require_model() -> None:
    """For a test that starts Rasa: `make test` runs the tests marked `model` only once the model is trained, so a
    test that starts Rasa without the mark would fail on a clean clone; say so here instead."""
    if model_marked is False:
        raise RuntimeError("this test starts Rasa with the trained model: mark it @pytest.mark.model")
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}; `make test` trains it first")


@contextmanager
def running_stack(workdir: Path, extra_env: dict[str, str] | None = None,
                  ready_timeout: float = 240.0) -> Iterator[Stack]:
    require_model()
    # One Rasa process unless the test asks for more: each costs a model load (about 100 s on 2 cores).
    extra_env = {"PERHEOPAS_RASA_PROCESSES": "1", **(extra_env or {})}
    ports = free_ports(1, int(extra_env["PERHEOPAS_RASA_PROCESSES"]), 1)
    env = dict(os.environ)
    env.update({
        "PERHEOPAS_ACTIONS_PORT": str(ports[0]),
        "PERHEOPAS_RASA_PORT": str(ports[1]),
        "PERHEOPAS_WEB_PORT": str(ports[2]),
        "PERHEOPAS_VAR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
        # Tests drive many conversations from one address; the per-client limit has its own test (test_web).
        "PERHEOPAS_CHAT_PER_CLIENT": "0",
    })
    for derived in ("PERHEOPAS_ACTIONS_URL", "PERHEOPAS_TRACKER_DB", "PERHEOPAS_RASA_URL"):
        env.pop(derived, None)
    env.update(extra_env)
    prepare_database(env)
    log_path = workdir / "stack.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=REPO, env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(ports[0], ports[1], ports[2], env=env, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while "ready in" not in stack.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("stack did not become ready:\n" + stack.log()[-4000:])
            time.sleep(0.5)
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# One stack shared by the test modules that only talk to it (tests/conftest.py: the `shared_stack` fixture), so
# Rasa loads once for all of them rather than once per module. Each test keeps to its own conversation ids.
# The clock is fixed on a weekday afternoon, which every sharing module used before; two Rasa processes, as
# `make run` starts on a machine with two cores or more (tests/test_stack.py checks both serve).
SHARED_STACK_ENV = {"PERHEOPAS_NOW": "2026-11-24T13:00:00+02:00", "PERHEOPAS_RASA_PROCESSES": "2"}


class Shared(Generic[T]):
    """Starts a set of running processes on first use and stops it on close(); a later get() starts it again.
    `died` says why a started set can no longer serve (None while it can)."""

    def __init__(self, start: Callable[[], AbstractContextManager[T]], died: Callable[[T], str | None]) -> None:
        self._start = start
        self._died = died
        self._exit: ExitStack | None = None
        self._value: T | None = None
        self._failed: str | None = None

    def get(self) -> T:
        if self._failed is not None:
            raise RuntimeError(f"the shared stack did not start (see the first test that used it): {self._failed}")
        if self._value is not None and (reason := self._died(self._value)) is not None:
            raise RuntimeError("the shared stack died:\n" + reason)
        if self._value is None:
            exit_stack = ExitStack()
            try:
                self._value = exit_stack.enter_context(self._start())
            except Exception as exc:
                self._failed = str(exc)[:200]
                raise
            self._exit = exit_stack
        return self._value

    @property
    def running(self) -> bool:
        return self._value is not None

    @contextmanager
    def take(self) -> Iterator[T]:
        """The running set handed over for good, for a test that stops it; a later get() starts a new one."""
        value = self.get()
        exit_stack, self._exit, self._value = self._exit, None, None
        assert exit_stack is not None
        with exit_stack:
            yield value

    def close(self) -> None:
        exit_stack, self._exit, self._value = self._exit, None, None
        if exit_stack is not None:
            exit_stack.close()


def shared_stack(workdir: Callable[[], Path]) -> Shared[Stack]:
    """The shared stack of SHARED_STACK_ENV, started in a folder `workdir` makes on first use."""
    return Shared(lambda: running_stack(workdir(), SHARED_STACK_ENV),
                  lambda stack: None if stack.process.poll() is None else stack.log()[-4000:])
