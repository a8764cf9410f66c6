"""The stack's processes started one by one, for tests and benchmarks that kill, restart or measure one of them.

`python -m bot run` stops everything when one child dies, which is right in production and wrong for a fault
test. These helpers start the very same children (argv from bot.ops.run.children, environment from
core.settings.rasa_environment), each in its own process group with its own log file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack import MODEL, REPO, Shared, free_ports, prepare_database, require_model

READY_TIMEOUT_S = 300.0


@dataclass
class Proc:
    """One child process with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str
    popen: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = READY_TIMEOUT_S, wait: bool = True) -> Proc:
        """Launch; with wait=False the caller calls ready() later (to load several processes side by side)."""
        with self.log_path.open("ab") as log_file:
            self.popen = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=log_file,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.ready(timeout)
        return self

    def ready(self, timeout: float = READY_TIMEOUT_S) -> Proc:
        wait_http(self.ready_url, timeout, self)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (SIGKILL by default: the crash, not the polite stop)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            assert self.popen is not None
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def peak_rss_kib(self) -> int:
        """VmHWM, the peak resident set of the process so far (Linux), summed over its live children."""
        if not self.alive():
            return 0
        return sum(vm_hwm_kib(pid) for pid in [self.pid, *_descendants(self.pid)])


def wait_http(url: str, timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.popen is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    tail = proc.log()[-3000:] if proc else ""
    raise RuntimeError(f"{url} was not ready in {timeout:.0f} s\n{tail}")


def vm_hwm_kib(pid: int) -> int:
    """Peak resident set of one process (VmHWM); unlike getrusage it starts afresh at exec."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            child = int(entry.name)
            found += [child, *_descendants(child)]
    return found


@dataclass
class Parts:
    """actions, rasa and web of one stack, started separately on free ports in `workdir`."""

    workdir: Path
    env: dict[str, str]
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def actions(self) -> Proc:
        return self.procs["actions"]

    @property
    def rasa(self) -> Proc:
        return self.procs["rasa"]

    @property
    def web(self) -> Proc:
        return self.procs["web"]

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PERHEOPAS_RASA_PORT']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PERHEOPAS_WEB_PORT']}"

    def restart(self, name: str, extra_env: dict[str, str] | None = None) -> Proc:
        """Stop one part if it runs, then start it again (optionally with a changed environment)."""
        old = self.procs[name]
        old.stop()
        proc = Proc(name, old.argv, {**old.env, **(extra_env or {})}, old.log_path, old.ready_url)
        self.procs[name] = proc.start()
        return proc

    def say(self, sender: str, message: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """A message straight to Rasa's REST channel."""
        return post_json(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": message},
                         timeout)[1]

    def chat(self, session: str, message: str, timeout: float = 60.0) -> tuple[int, dict[str, Any]]:
        """A message through the web gateway, as the chat page sends it."""
        return post_json(f"{self.web_url}/api/chat", {"session": session, "message": message}, timeout)


def post_json(url: str, body: object, timeout: float = 60.0) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


LISTEN, ESTABLISHED = "0A", "01"  # socket states in /proc/net/tcp


def tcp_local_addresses(port: int, state: str) -> list[str]:
    """Local addresses of this machine's TCP sockets on `port` in `state` (Linux /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if fields[3] == state and int(port_hex, 16) == port:
                    found.append(address)
    return found


def parts_environment(workdir: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `python -m bot run` gives its children, on free ports with state in `workdir`."""
    from core.settings import Ports, rasa_environment

    # One Rasa process unless asked for more (the benchmark asks for what `make run` would start).
    extra_env = {"PERHEOPAS_RASA_PROCESSES": "1", **(extra_env or {})}
    actions_port, rasa_port, web_port = free_ports(1, int(extra_env["PERHEOPAS_RASA_PROCESSES"]), 1)
    saved = dict(os.environ)
    try:
        os.environ.update({
            "PERHEOPAS_ACTIONS_PORT": str(actions_port),
            "PERHEOPAS_RASA_PORT": str(rasa_port),
            "PERHEOPAS_WEB_PORT": str(web_port),
            "PERHEOPAS_VAR": str(workdir),
            "DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
            "RASA_TELEMETRY_ENABLED": "false",
            # Tests drive many conversations from one address; the per-client limit has its own test (test_web).
            "PERHEOPAS_CHAT_PER_CLIENT": "0",
        })
        for derived in ("PERHEOPAS_ACTIONS_URL", "PERHEOPAS_TRACKER_DB", "PERHEOPAS_RASA_URL"):
            os.environ.pop(derived, None)
        os.environ.update(extra_env)
        return rasa_environment(Ports.from_env())
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def running_parts(workdir: Path, extra_env: dict[str, str] | None = None, only: tuple[str, ...] = (),
                  prepare: bool = True) -> Iterator[Parts]:
    """Start actions, Rasa and web (or `only` some of them) in that order; stop whatever still runs at exit."""
    from bot.ops.run import children
    from core.settings import Ports

    if not only or "rasa" in only:
        require_model()
    env = parts_environment(workdir, extra_env)
    if prepare:
        prepare_database(env)
    ports = Ports(int(env["PERHEOPAS_ACTIONS_PORT"]), int(env["PERHEOPAS_RASA_PORT"]), int(env["PERHEOPAS_WEB_PORT"]),
                  int(env["PERHEOPAS_RASA_PROCESSES"]))
    parts = Parts(workdir, env)
    try:
        for child in children(ports, MODEL, env["PERHEOPAS_RASA_INTERFACE"]):
            if only and child.name not in only:
                continue
            proc = Proc(child.name, child.argv, dict(env), workdir / f"{child.name}.log", child.ready_url)
            parts.procs[child.name] = proc.start(wait=not child.load_with_next)
        for proc in parts.procs.values():
            proc.ready()  # the ones loaded side by side
        yield parts
    finally:
        for proc in reversed(list(parts.procs.values())):
            proc.stop()


#: The clock the shared parts start with: a Tuesday afternoon, staff in (tests/conftest.py `shared_parts`).
SHARED_PARTS_NOW = "2026-11-24T13:00:00+02:00"


def shared_parts(workdir: Callable[[], Path]) -> Shared[Parts]:
    """actions, Rasa and web for the conversation modules, which restart the action server to move its clock
    (Rasa never reads it) and may stop it to test a fault; only Rasa or the web app dying ends the set."""
    def died(parts: Parts) -> str | None:
        dead = [name for name in ("rasa", "web") if not parts.procs[name].alive()]
        return "\n".join(f"{name}:\n{parts.procs[name].log()[-3000:]}" for name in dead) or None

    return Shared(lambda: running_parts(workdir(), {"PERHEOPAS_NOW": SHARED_PARTS_NOW}), died)
