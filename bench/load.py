"""Load benchmark: a busy evening and saturation through the gateway, against a bare `rasa init` moodbot.

    .venv/bin/python bench/load.py            # the full run whose figures are in bench/LOAD_RESULTS.md
    .venv/bin/python bench/load.py --short    # about a minute; tests/test_load.py runs it in `make test`

1. Busy evening (open model): 50 anonymous sessions replay realistic Finnish conversations through the web
   gateway; each sends its next message 2-8 s (random) after the previous reply, for at least 2 minutes.
   Goal: 0 errors and p95 < 300 ms.
2. Saturation (closed loop): 20 senders with no pause, through the gateway, and the same against the moodbot
   that `rasa init` makes with this Rasa, over its REST channel. Goal: at least 0.7x the reference's messages/s.

It prints p50/p95/p99, errors and the peak RSS of every process. The stack is started part by part with the
argv and environment of `make run` (tests/parts.py); the moodbots are started beside it before anything is
measured, and stay idle while the stack is measured (and the stack while they are). The two saturation phases
alternate in rounds (ours, reference, reference, ours, ...), so that the shared machine's drift over the minutes
of a run falls on both sides alike: measured one after the other, two runs of the same code gave 0.91x and 0.69x.
The ratio is the total messages/s of ours over the reference's; each round's ratio is printed too. The moodbot is
trained once and cached under var/bench/.

The stack runs as many Rasa processes as `make run` does (PERHEOPAS_RASA_PROCESSES, or --rasa-processes), and
the reference runs the same number of moodbots, each conversation pinned to one of them by the gateway's sticky
rule, so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from parts import Proc, running_parts, vm_hwm_kib  # noqa: E402
from stack import free_port  # noqa: E402

from core.settings import Ports  # noqa: E402

CONVERSATIONS = Path(__file__).with_name("load_conversations.yml")
BENCH_VAR = REPO / "var" / "bench"
EVENING_P95_GOAL_MS = 300.0
RATIO_GOAL = 0.7
REQUEST_TIMEOUT_S = 30.0

Send = Callable[[aiohttp.ClientSession, str, str], Awaitable[str | None]]


@dataclass
class Phase:
    """What one load phase measured."""

    name: str
    seconds: float
    messages: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "seconds": round(self.seconds, 1), "messages": self.messages,
            "messages_per_s": round(self.rate, 2), "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "p50_ms": round(self.percentile(50), 1), "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
        }


# --- senders: one message, return None on success or the kind of error ---

def gateway_sender(base_url: str) -> Send:
    async def send(http: aiohttp.ClientSession, session: str, message: str) -> str | None:
        async with http.post(f"{base_url}/api/chat", json={"session": session, "message": message}) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200:
                return f"http_{resp.status}"
            if body.get("degraded"):
                return "degraded"  # the gateway's safety reply: Rasa failed or timed out
            return None if body.get("messages") else "empty"

    return send


def rest_sender(base_urls: list[str]) -> Send:
    """Straight to Rasa's REST channel; with several processes each conversation keeps to one, as the gateway does."""
    async def send(http: aiohttp.ClientSession, session: str, message: str) -> str | None:
        payload = {"sender": session, "message": message}
        base_url = base_urls[zlib.crc32(session.encode("ascii")) % len(base_urls)]
        async with http.post(f"{base_url}/webhooks/rest/webhook", json=payload) as resp:
            body = await resp.json(content_type=None)
            # An empty list is a normal moodbot answer (it predicted listening), so only HTTP errors count here.
            return None if resp.status == 200 and isinstance(body, list) else f"http_{resp.status}"

    return send


async def _timed(send: Send, http: aiohttp.ClientSession, session: str, message: str,
                 phase: Phase, record: bool) -> None:
    started = time.perf_counter()
    try:
        error = await send(http, session, message)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        error = type(exc).__name__
    if not record:
        return
    phase.messages += 1
    phase.latencies_ms.append((time.perf_counter() - started) * 1000)
    if error:
        phase.errors[error] += 1


def _session_id() -> str:
    return uuid.uuid4().hex  # the gateway's session format; every new conversation is a new anonymous parent


async def busy_evening(send: Send, scripts: list[list[str]], sessions: int, think: tuple[float, float],
                       seconds: float, seed: int) -> Phase:
    """Open model: each session sends, waits for the reply, thinks 2-8 s, sends again, until time is up."""
    phase = Phase("busy evening", seconds)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds

    async def parent(http: aiohttp.ClientSession, index: int) -> None:
        local = random.Random(rng.random())
        await asyncio.sleep(local.uniform(0, think[1]))  # arrivals spread out, not one burst at 0 s
        while time.monotonic() < deadline:
            session = _session_id()
            for message in local.choice(scripts):
                if time.monotonic() >= deadline:
                    return
                await _timed(send, http, session, message, phase, record=True)
                await asyncio.sleep(local.uniform(*think))

    async with _client(sessions) as http:
        await asyncio.gather(*(parent(http, i) for i in range(sessions)))
    return phase


async def saturation(name: str, send: Send, scripts: list[list[str]], senders: int, seconds: float,
                     warmup: float, seed: int) -> Phase:
    """Closed loop: each sender sends its next message as soon as the previous reply arrived."""
    phase = Phase(name, seconds)
    rng = random.Random(seed)
    start = time.monotonic()
    measure_from, deadline = start + warmup, start + warmup + seconds

    async def sender(http: aiohttp.ClientSession) -> None:
        local = random.Random(rng.random())
        while time.monotonic() < deadline:
            session = _session_id()
            for message in local.choice(scripts):
                now = time.monotonic()
                if now >= deadline:
                    return
                # Only messages sent and answered inside the window count.
                await _timed(send, http, session, message, phase, record=now >= measure_from)

    async with _client(senders) as http:
        await asyncio.gather(*(sender(http) for _ in range(senders)))
    return phase


def _client(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency + 10)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))


async def warm_up(send: Send, scripts: list[list[str]], processes: int) -> None:
    """First messages load lazy parts of the model; they are not what a parent waits for on a busy evening.

    Four conversations per Rasa process, so that every process has most likely served some (routing is by session).
    """
    async with _client(4) as http:
        for index in range(4 * processes):
            script = scripts[index % len(scripts)]
            session = _session_id()
            for message in script:
                await send(http, session, message)


# --- the moodbot reference ---

def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "TQDM_DISABLE": "1",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1"})
    return env


def moodbot_model(short: bool) -> Path:
    """The moodbot of `rasa init`, trained once per Rasa version and mode, then cached under var/bench/.

    Full mode runs `rasa init --no-prompt` itself. Short mode (for `make test`) copies the same project and trains
    it with 5 epochs instead of 100: prediction runs the same network, only its weights are less tuned.
    """
    import rasa

    folder = BENCH_VAR / f"moodbot-{rasa.__version__}-{'short' if short else 'full'}"
    found = sorted((folder / "models").glob("*.tar.gz"))
    if found:
        return found[-1]
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    log = folder.parent / f"{folder.name}.train.log"
    if short:
        template = Path(rasa.__file__).parent / "cli" / "initial_project"
        shutil.copytree(template, folder)
        (folder / "config.yml").write_text(_short_moodbot_config(), encoding="utf-8")
        argv = [sys.executable, "-m", "rasa", "train", "--out", "models", "--fixed-model-name", "moodbot"]
        cwd = folder
    else:
        folder.mkdir()  # rasa init wants the folder to exist
        argv = [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)]
        cwd = folder.parent
    print(f"training the moodbot reference ({'short' if short else 'as rasa init does'}); log: {log}", flush=True)
    with log.open("w") as handle:
        subprocess.run(argv, cwd=cwd, env=rasa_env(), stdout=handle, stderr=subprocess.STDOUT, check=True)
    found = sorted((folder / "models").glob("*.tar.gz"))
    if not found:
        raise RuntimeError(f"moodbot training made no model; see {log}")
    return found[-1]


def _short_moodbot_config() -> str:
    """Rasa's own default config (what `rasa init` trains with, auto-configured), with 5 epochs instead of 100."""
    import rasa

    default = Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
    text = default.read_text(encoding="utf-8")
    assert "epochs: 100" in text, "Rasa's default config changed; check the short moodbot reference"
    return text.replace("epochs: 100", "epochs: 5")


def start_moodbots(model: Path, workdir: Path, count: int) -> list[Proc]:
    """As many bare moodbot processes as the stack has Rasa processes, loaded side by side."""
    credentials = workdir / "moodbot-credentials.yml"
    credentials.write_text("rest:\n", encoding="utf-8")
    # Bare: no action server, Rasa's default in-memory tracker and lock stores (an empty endpoints file, since
    # the process runs in the repository, whose endpoints.yml is ours).
    endpoints = workdir / "moodbot-endpoints.yml"
    endpoints.write_text("# the moodbot needs no endpoints\n", encoding="utf-8")
    procs = []
    for index in range(count):
        port = free_port()
        argv = [sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(port),
                "--credentials", str(credentials), "--endpoints", str(endpoints), "--cors", "[]"]
        procs.append(Proc(f"moodbot-{index + 1}", argv, rasa_env(), workdir / f"moodbot-{index + 1}.log",
                          f"http://127.0.0.1:{port}/").start(wait=False))
    try:
        for proc in procs:
            proc.ready()
    except RuntimeError:
        for proc in procs:
            proc.stop()
        raise
    return procs


# --- the run ---

@dataclass
class Settings:
    short: bool
    sessions: int = 50
    think: tuple[float, float] = (2.0, 8.0)
    evening_s: float = 150.0
    saturation_s: float = 60.0
    warmup_s: float = 5.0
    senders: int = 20
    # Rasa processes of the stack, and of the reference: what `make run` starts here unless told otherwise.
    rasa_processes: int = field(default_factory=lambda: Ports.from_env().rasa_processes)
    reference: bool = True
    seed: int = 7
    # Saturation alternates between ours and the reference in this many rounds (saturation_s in all, per side).
    rounds: int = 4

    @classmethod
    def for_mode(cls, short: bool) -> Settings:
        if short:
            return cls(short=True, evening_s=20.0, saturation_s=8.0, warmup_s=2.0, rounds=2)
        return cls(short=False)


def peak_rss_mib(procs: dict[str, Proc]) -> dict[str, float]:
    return {name: round(proc.peak_rss_kib() / 1024, 1) for name, proc in procs.items()}


def run(settings: Settings, workdir: Path) -> dict[str, Any]:
    scripts = yaml.safe_load(CONVERSATIONS.read_text(encoding="utf-8"))
    result: dict[str, Any] = {"settings": {**asdict(settings), "think": list(settings.think)},
                              "loadavg_start": os.getloadavg()[0]}
    # The reference model trains (once; then it is cached) while the stack starts, never while we measure.
    reference_model: list[Path] = []
    trainer = threading.Thread(target=lambda: reference_model.append(moodbot_model(settings.short)), daemon=True)
    if settings.reference:
        trainer.start()
    started = time.monotonic()
    with running_parts(workdir / "stack", {"PERHEOPAS_RASA_PROCESSES": str(settings.rasa_processes)}) as parts:
        result["stack_start_s"] = round(time.monotonic() - started, 1)
        moodbots: list[Proc] = []
        if settings.reference:
            trainer.join()
            if not reference_model:
                raise RuntimeError("the moodbot reference could not be trained; see var/bench/*.train.log")
            moodbots = start_moodbots(reference_model[0], workdir, settings.rasa_processes)
        try:
            sides = {"ours": (gateway_sender(parts.web_url), scripts["perheopas"])}
            if moodbots:
                sides["reference"] = (rest_sender([proc.ready_url.rstrip("/") for proc in moodbots]),
                                      scripts["moodbot"])
            for send, side_scripts in sides.values():
                asyncio.run(warm_up(send, side_scripts, settings.rasa_processes))
            send, side_scripts = sides["ours"]
            evening = asyncio.run(busy_evening(send, side_scripts, settings.sessions, settings.think,
                                               settings.evening_s, settings.seed))
            rounds = _saturation_rounds(settings, sides)
            result["peak_rss_mib"] = peak_rss_mib(parts.procs)
            for proc in moodbots:
                result["peak_rss_mib"][f"{proc.name} (reference)"] = round(proc.peak_rss_kib() / 1024, 1)
        finally:
            for proc in moodbots:
                proc.stop()
    result["busy_evening"] = evening.summary()
    ours = _merged("saturation: Perheopas via gateway", rounds["ours"])
    result["saturation"] = ours.summary()
    if moodbots:
        ref = _merged("saturation: bare moodbot REST", rounds["reference"])
        result["reference"] = ref.summary()
        result["ratio"] = round(ours.rate / ref.rate, 2) if ref.rate else None
        result["round_ratios"] = [round(a.rate / b.rate, 2) if b.rate else None
                                  for a, b in zip(rounds["ours"], rounds["reference"], strict=True)]
        result["round_rates"] = {side: [round(p.rate, 1) for p in phases] for side, phases in rounds.items()}
    # VmHWM, not getrusage: ru_maxrss keeps the peak of the process that exec'd us (pytest, with TensorFlow loaded).
    result["peak_rss_mib"]["load generator"] = round(vm_hwm_kib(os.getpid()) / 1024, 1)
    return result


def _saturation_rounds(settings: Settings, sides: dict[str, tuple[Send, list[list[str]]]]) -> dict[str, list[Phase]]:
    """Saturate each side in turn, ABBA order, ``saturation_s`` per side in all."""
    names = list(sides)
    rounds = settings.rounds if len(names) > 1 else 1
    phases: dict[str, list[Phase]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            send, side_scripts = sides[name]
            phases[name].append(asyncio.run(saturation(
                name, send, side_scripts, settings.senders, settings.saturation_s / rounds, settings.warmup_s,
                settings.seed + index)))
    return phases


def _merged(name: str, phases: list[Phase]) -> Phase:
    merged = Phase(name, sum(p.seconds for p in phases))
    for phase in phases:
        merged.messages += phase.messages
        merged.errors.update(phase.errors)
        merged.latencies_ms.extend(phase.latencies_ms)
    return merged


def report(result: dict[str, Any], command: str) -> str:
    import rasa

    s = result["settings"]
    lines = [
        f"Perheopas load benchmark · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · Rasa {rasa.__version__} · "
        f"Python {platform.python_version()} · {os.cpu_count()} CPUs · {'short' if s['short'] else 'full'} mode",
        f"command: {command}",
        f"machine load average (1 min) at start {result['loadavg_start']:.2f}, at end {os.getloadavg()[0]:.2f}",
        f"stack ready in {result['stack_start_s']} s · Rasa processes: {s['rasa_processes']} in the stack, "
        f"{s['rasa_processes']} moodbots in the reference (sticky by conversation)",
        "",
        f"{'phase':<38} {'msgs':>6} {'msg/s':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7}",
    ]
    phases = [result["busy_evening"], result["saturation"]] + ([result["reference"]] if "reference" in result else [])
    for p in phases:
        name = p["name"]
        if name == "busy evening":
            name = f"busy evening ({s['sessions']} sessions, {s['think'][0]:g}-{s['think'][1]:g} s think)"
        lines.append(f"{name:<38} {p['messages']:>6} {p['messages_per_s']:>7.1f} {p['errors']:>6} "
                     f"{p['p50_ms']:>7.0f} {p['p95_ms']:>7.0f} {p['p99_ms']:>7.0f} {p['max_ms'] or 0:>7.0f}")
    for p in phases:
        if p["error_kinds"]:
            lines.append(f"  errors in {p['name']}: {p['error_kinds']}")
    evening = result["busy_evening"]
    goal_evening = evening["errors"] == 0 and evening["p95_ms"] < EVENING_P95_GOAL_MS
    lines += [
        "",
        f"busy evening goal (0 errors, p95 < {EVENING_P95_GOAL_MS:.0f} ms): {'met' if goal_evening else 'NOT met'}",
    ]
    if result.get("ratio") is not None:
        lines.append(f"saturation: {result['saturation']['messages_per_s']:.1f} msg/s vs bare reference "
                     f"{result['reference']['messages_per_s']:.1f} msg/s = {result['ratio']:.2f}x "
                     f"(goal >= {RATIO_GOAL}x): {'met' if result['ratio'] >= RATIO_GOAL else 'NOT met'}")
        lines.append("saturation rounds, ours vs reference alternating (ABBA): ratios "
                     + ", ".join(f"{r:.2f}x" if r is not None else "n/a" for r in result["round_ratios"])
                     + "; msg/s ours " + ", ".join(f"{r:.1f}" for r in result["round_rates"]["ours"])
                     + ", reference " + ", ".join(f"{r:.1f}" for r in result["round_rates"]["reference"]))
    lines.append("peak RSS (MiB): " + ", ".join(f"{k} {v}" for k, v in result["peak_rss_mib"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="about a minute, for make test")
    parser.add_argument("--no-reference", action="store_true", help="skip the moodbot reference")
    parser.add_argument("--evening-seconds", type=float)
    parser.add_argument("--saturation-seconds", type=float)
    parser.add_argument("--sessions", type=int)
    parser.add_argument("--senders", type=int)
    parser.add_argument("--rasa-processes", type=int, help="Rasa processes (default: what make run starts here)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--train-reference-only", action="store_true",
                        help="only train (or find cached) the moodbot reference; `make test` does it while it waits")
    args = parser.parse_args(argv)
    if args.train_reference_only:
        print(f"moodbot reference: {moodbot_model(args.short)}")
        return 0

    settings = Settings.for_mode(args.short)
    settings.reference = not args.no_reference
    for name in ("evening_seconds", "saturation_seconds", "sessions", "senders", "rasa_processes"):
        value = getattr(args, name)
        if value is not None:
            setattr(settings, {"evening_seconds": "evening_s", "saturation_seconds": "saturation_s"}.get(name, name),
                    value)
    if not settings.short and settings.evening_s < 120:
        print("note: the issue's busy evening lasts at least 2 minutes", file=sys.stderr)

    command = "python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="perheopas-load-") as tmp:
        result = run(settings, Path(tmp))
    text = report(result, command.strip())
    print(text)
    if args.json:
        args.json.write_text(json.dumps({**result, "report": text}, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
