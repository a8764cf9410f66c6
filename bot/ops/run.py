"""Supervisor for `make run`: starts actions, Rasa and the web app, prefixes their logs, stops all together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from core.settings import REPO_ROOT, Ports, rasa_environment

log = logging.getLogger("perheopas.run")

STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Child:
    """One supervised process and the URL that answers once it is ready.

    `load_with_next`: start the next child without waiting for this one, so that several Rasa processes load
    their models side by side; everything after them still waits until all of them are ready.
    """

    name: str
    argv: list[str]
    ready_url: str
    load_with_next: bool = False


def rasa_name(index: int) -> str:
    return "rasa" if index == 0 else f"rasa-{index + 1}"


def children(ports: Ports, model: Path, interface: str = "127.0.0.1") -> list[Child]:
    python = sys.executable
    rasa = [
        Child(
            rasa_name(index),
            # No --enable-api: the HTTP API is a remote-code-execution risk we do not need (DESIGN.md).
            [python, "-m", "bot.rasa_ext", "run", "--model", str(model), "--interface", interface, "--port", str(port),
             "--credentials", "credentials.yml", "--endpoints", "endpoints.yml", "--cors", "[]"],
            f"http://127.0.0.1:{port}/",
            load_with_next=index < ports.rasa_processes - 1,
        )
        for index, port in enumerate(ports.rasa_ports)
    ]
    return [
        Child(
            "actions",
            [python, "-m", "bot", "actions", "--port", str(ports.actions)],
            f"http://127.0.0.1:{ports.actions}/health",
        ),
        *rasa,
        Child(
            "web",
            [python, "-m", "bot", "web", "--port", str(ports.web)],
            f"http://127.0.0.1:{ports.web}/health",
        ),
    ]


async def _pump(name: str, stream: asyncio.StreamReader) -> None:
    width = 8
    while line := await stream.readline():
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            sys.stdout.write(f"{name:<{width}}| {text}\n")
            sys.stdout.flush()


async def _wait_ready(child: Child, proc: asyncio.subprocess.Process, deadline: float) -> None:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"{child.name} exited with code {proc.returncode} before it was ready")
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with http.get(child.ready_url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status < 500:
                        return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{child.name} was not ready at {child.ready_url} in {READY_TIMEOUT_SECONDS:.0f} s")


async def _terminate(procs: dict[str, asyncio.subprocess.Process]) -> None:
    """SIGTERM each child's process group, then SIGKILL what is still alive after the grace period."""
    for proc in procs.values():
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(p.wait() for p in procs.values())), timeout=STOP_GRACE_SECONDS
        )
    except asyncio.TimeoutError:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.gather(*(p.wait() for p in procs.values()))


async def _all_ready(loading: dict[str, asyncio.Task[None]], stop: asyncio.Event) -> bool:
    """Wait until every loading child is ready (True) or we are told to stop (False); a child's failure raises."""
    stopped = asyncio.create_task(stop.wait())
    pending: set[asyncio.Task[Any]] = set(loading.values())
    try:
        while pending:
            done, pending = await asyncio.wait({*pending, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if stopped in done:
                return False
            pending.discard(stopped)
            for name, task in loading.items():
                if task in done:
                    task.result()
                    log.info("%s ready", name)
        return True
    finally:
        stopped.cancel()
        for task in loading.values():
            task.cancel()


async def supervise(ports: Ports, model: Path) -> int:
    """Start the children in order, report readiness, and return when any child exits or we are signalled."""
    env = rasa_environment(ports)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    procs: dict[str, asyncio.subprocess.Process] = {}
    pumps: list[asyncio.Task[None]] = []
    started = time.monotonic()
    exit_code = 0
    try:
        loading: dict[str, asyncio.Task[None]] = {}
        for child in children(ports, model, env["PERHEOPAS_RASA_INTERFACE"]):
            proc = await asyncio.create_subprocess_exec(
                *child.argv, cwd=REPO_ROOT, env=env, start_new_session=True,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )
            procs[child.name] = proc
            assert proc.stdout is not None
            pumps.append(asyncio.create_task(_pump(child.name, proc.stdout)))
            loading[child.name] = asyncio.create_task(
                _wait_ready(child, proc, time.monotonic() + READY_TIMEOUT_SECONDS))
            if child.load_with_next:
                continue
            if not await _all_ready(loading, stop):
                return 0
            loading.clear()
        log.info(
            "ready in %.1f s: chat http://localhost:%d/ · Rasa %s · actions :%d",
            time.monotonic() - started, ports.web, " ".join(f":{p}" for p in ports.rasa_ports), ports.actions,
        )
        waiters = {asyncio.create_task(p.wait()): n for n, p in procs.items()}
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({*waiters, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task in waiters:
                log.error("%s exited with code %s; stopping the stack", waiters[task], task.result())
                exit_code = 1
        for task in (*waiters, stopped):
            task.cancel()
    except RuntimeError as error:
        log.error("%s", error)
        exit_code = 1
    finally:
        await _terminate(procs)
        for pump in pumps:
            pump.cancel()
        log.info("stopped")
    return exit_code


def main(ports: Ports | None = None, model: Path | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="run     | %(message)s", stream=sys.stdout)
    try:
        ports = ports or Ports.from_env()
    except ValueError as error:
        log.error("%s", error)
        return 2
    model = model or REPO_ROOT / "models" / "perheopas.tar.gz"
    if not model.exists():
        log.error("No trained model at %s: run `make run`, which trains it.", model)
        return 1
    return asyncio.run(supervise(ports, model))
