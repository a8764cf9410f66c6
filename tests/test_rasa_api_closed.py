"""Rasa's HTTP API stays closed in the configuration `make run` uses (DESIGN.md; Rasa < 3.6.21 had an RCE there).

Rasa is started by `python -m bot run` itself (the shared stack of tests/stack.py), so with exactly the argv and
environment of bot.ops.run.children, then every route of the HTTP API is tried: none may answer with success. The
REST channel, which the gateway needs, still works.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from parts import LISTEN, _descendants, post_json, tcp_local_addresses
from stack import MODEL, Stack

from bot.ops.run import children
from core.settings import Ports

pytestmark = [pytest.mark.slow, pytest.mark.model]

SENDER = "api-closed-probe"
API_ROUTES = [
    ("GET", "/status"), ("GET", "/domain"), ("GET", "/version"),
    ("GET", f"/conversations/{SENDER}/tracker"), ("GET", f"/conversations/{SENDER}/story"),
    ("POST", f"/conversations/{SENDER}/tracker/events"), ("PUT", f"/conversations/{SENDER}/tracker/events"),
    ("POST", f"/conversations/{SENDER}/messages"), ("POST", f"/conversations/{SENDER}/execute"),
    ("POST", f"/conversations/{SENDER}/trigger_intent"), ("POST", f"/conversations/{SENDER}/predict"),
    ("POST", "/model/parse"), ("POST", "/model/train"), ("POST", "/model/predict"),
    ("POST", "/model/test/stories"), ("POST", "/model/test/intents"), ("PUT", "/model"), ("DELETE", "/model"),
]
CLOSED = {401, 403, 404, 405}


@pytest.fixture(scope="module")
def rasa_only(shared_stack: Stack) -> Stack:
    return shared_stack


def _rasa_environment(stack: Stack) -> dict[str, str]:
    """The environment of the Rasa process that `python -m bot run` started on the stack's first Rasa port."""
    for pid in _descendants(stack.process.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        is_rasa = b"bot.rasa_ext" in argv and b"run" in argv  # our entry point to Rasa (bot/rasa_ext/__main__.py)
        if is_rasa and b"--port" in argv and argv[argv.index(b"--port") + 1] == str(stack.rasa_port).encode():
            return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)
    raise AssertionError(f"no Rasa process on port {stack.rasa_port} under the stack")


def test_make_run_starts_rasa_without_the_api_or_cors() -> None:
    rasa = next(c for c in children(Ports(), MODEL) if c.name == "rasa")
    assert "--enable-api" not in rasa.argv
    assert "--auth-token" not in rasa.argv  # no token either: the API is simply not there
    assert rasa.argv[rasa.argv.index("--cors") + 1] == "[]"


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_api_route_is_unreachable(rasa_only: Stack, method: str, path: str) -> None:
    body = b'{"text": "hei", "name": "greet", "event": "user", "model_file": "/tmp/x.tar.gz"}'
    request = urllib.request.Request(f"{rasa_only.rasa_url}{path}", data=body if method != "GET" else None,
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            status = resp.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in CLOSED, f"{method} {path} answered {status}"


def test_rest_channel_still_answers(rasa_only: Stack) -> None:
    status, replies = post_json(f"{rasa_only.rasa_url}/webhooks/rest/webhook", {"sender": SENDER, "message": "moi"})
    assert status == 200
    assert isinstance(replies, list)  # the content is checked in tests/test_stack.py


def test_rasa_listens_on_loopback_only(rasa_only: Stack) -> None:
    """Neither Rasa nor (by SANIC_HOST) the action server has authentication, so neither listens outside."""
    rasa = next(c for c in children(Ports(), MODEL) if c.name == "rasa")
    assert rasa.argv[rasa.argv.index("--interface") + 1] == "127.0.0.1"
    assert _rasa_environment(rasa_only)["SANIC_HOST"] == "127.0.0.1"
    assert set(tcp_local_addresses(rasa_only.rasa_port, LISTEN)) == {"0100007F"}  # 127.0.0.1
